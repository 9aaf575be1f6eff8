// Package runbook reads a runbook (a TOML step graph), checks it against an
// inventory, and turns it into per-host steps: what the dry-run prints and
// the executor runs.
package runbook

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"tejun/inventory"
	"tejun/inventory/tomlsrc"
	"tejun/runbook/dag"
	"tejun/steps"
)

// Runbook is a loaded, self-consistent runbook, not yet tied to hosts.
type Runbook struct {
	File string
	Name string
	// StepStyle is how steps are numbered: "circled" (①, the HA manual)
	// or "paren" ((1), NEC's guides).
	StepStyle string
	Title     inventory.Text
	Source    string
	Inventory string // default inventory, relative to the working directory
	// MaxFail is how many hosts may fail before the run stops starting
	// steps on every host; -1 (the default) never stops, so a failed
	// host's dependents are skipped on that host alone. 0 suits runbooks
	// whose hosts must stay in step (an HA pair).
	MaxFail  int
	Vars     map[string]string
	Secrets  []*Secret
	Sections []*Section
	Steps    []*Step // in document order
	Graph    *dag.Graph

	src *tomlsrc.Source
	md  toml.MetaData
}

// Secret is a declared secret: where its value comes from, never the value.
type Secret struct {
	Name        string
	Env         string
	File        string
	Prompt      bool
	Description inventory.Text
}

// Section is a numbered chapter of the procedure, worked on one host or role.
type Section struct {
	ID     string
	Title  inventory.Text
	On     string
	Number int // 1-based among numbered sections; 0 for an unnumbered one
	// Numbered is the document's own number ("5.1"), when it has one.
	Numbered string
	// Optional sections (a kill test, one of two failover drills) run
	// only when chosen with --section.
	Optional bool
	// With names the optional sections this one runs after when one of
	// them is chosen (the after-failover work follows every drill); it
	// still runs alone with its own --section.
	With []string
	// IfNoHosts lets the section aim at roles no host has (replicas and
	// edges, in a site without any): it is then nothing to do, and this
	// text says so in the procedure and the run.
	IfNoHosts inventory.Text
	// Always sections (logging out, removing a ticket file) run at the end
	// of every run, even one stopped by a failure, max_fail or an
	// interrupt, on each host the run reached: like a finally block,
	// since a credential left behind outlives the run that failed.
	Always bool
	Note   inventory.Text
	Steps  []*Step
}

// Chosen says whether the section runs when --section names id.
func (sec *Section) Chosen(id string) bool {
	if sec.ID == id {
		return true
	}
	for _, w := range sec.With {
		if w == id {
			return true
		}
	}
	return false
}

// Step is one numbered step of a section.
type Step struct {
	ID          string
	Kind        steps.Kind
	Title       inventory.Text
	Note        inventory.Text
	On          string
	Needs       []string
	Timeout     time.Duration
	Retries     int
	Interval    time.Duration
	Destructive bool
	// DoneWhen names a verify step: when it already holds, this step is
	// done without being checked (a standby that replicates needs no new
	// checkpoint, and must not be stopped or emptied).
	DoneWhen string
	// Examples are the manual's example outputs of the step (表示される
	// メッセージ例, 実行結果) and Explain its 解説: shown by the dry-run so
	// the procedure reads as the manual does, never checked against a host.
	Examples []Example
	Explain  inventory.Text
	Section  *Section
	Number   int // 1-based within the section: ① ② ...
	// Sub numbers a step tejun adds to the manual under the step before
	// it (②-1, ②-2): the manual's own numbers stay, so an operator reading
	// the manual beside the dry-run finds every step where it is.
	Sub int

	path  string // TOML key path, for placing problems
	prim  toml.Primitive
	style string // the runbook's step_style
}

// Example is one example output block of the manual: what a person sees
// after the step's command, under the manual's own heading, and a note
// after it (what to do when the output differs).
type Example struct {
	Heading inventory.Text `toml:"heading"`
	Output  string         `toml:"output"`
	Note    inventory.Text `toml:"note"`
}

// Duration is a TOML string such as "30s" or "5m".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: want a number with a unit, such as 30s or 5m", b)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", b)
	}
	d.Duration = v
	return nil
}

type metaSchema struct {
	Name      string         `toml:"name"`
	StepStyle string         `toml:"step_style"`
	MaxFail   *int           `toml:"max_fail"`
	Title     inventory.Text `toml:"title"`
	Inventory string         `toml:"inventory"`
	Source    string         `toml:"source"`
}

type secretSchema struct {
	Env         string         `toml:"env"`
	File        string         `toml:"file"`
	Prompt      bool           `toml:"prompt"`
	Description inventory.Text `toml:"description"`
}

// sectionSchema is generic in how its steps decode: the schema check sees
// them as tables, the decode pass keeps them raw for their kind.
type sectionSchema[S any] struct {
	ID    string         `toml:"id"`
	Title inventory.Text `toml:"title"`
	On    string         `toml:"on"`
	// Numbered is false for the manual's "■" sections (the failover tests).
	Numbered *bool `toml:"numbered"`
	// Number is the document's own section number, such as "5.1".
	Number    string         `toml:"number"`
	Optional  bool           `toml:"optional"`
	With      []string       `toml:"with"`
	IfNoHosts inventory.Text `toml:"if_no_hosts"`
	Always    bool           `toml:"always"`
	Note      inventory.Text `toml:"note"`
	Step      []S            `toml:"step"`
}

type fileSchema[S any] struct {
	Runbook metaSchema              `toml:"runbook"`
	Vars    map[string]any          `toml:"vars"`
	Secrets map[string]secretSchema `toml:"secrets"`
	Section []sectionSchema[S]      `toml:"section"`
}

// stepCommon holds the keys every step has, next to its kind's parameters.
type stepCommon struct {
	ID          string         `toml:"id" doc:"The step's name, unique in the runbook: needs, done_when, --only and --from name it, and the audit record keys on it."`
	Kind        string         `toml:"kind" doc:"What the step does: one of the kinds tejun kinds lists."`
	Title       inventory.Text `toml:"title" doc:"The step's heading in the manual, in ja/en."`
	Note        inventory.Text `toml:"note" doc:"Remarks printed under the heading, in ja/en; a command in backticks is shown as code."`
	On          string         `toml:"on" doc:"The hosts or roles the step runs on (a comma list, or all); default the section's."`
	Needs       *[]string      `toml:"needs" doc:"The steps this one runs after; default the step before it, [] to start a new chain."`
	Timeout     Duration       `toml:"timeout" doc:"How long the step may take on a host before it fails; default --step-timeout, else 1h."`
	Retries     int            `toml:"retries" doc:"For a verify kind: how many more times its check runs before the step fails."`
	Interval    Duration       `toml:"interval" doc:"For a verify kind: how long to wait between its checks."`
	Destructive *bool          `toml:"destructive" doc:"true makes tejun ask before the step runs (or want --yes); a destructive kind cannot be declared false."`
	DoneWhen    string         `toml:"done_when" doc:"A verify step: when it already holds, this step is done without running."`
	Examples    []Example      `toml:"example" doc:"Output the manual shows for the step (heading, output, note): printed by dry-run, never checked."`
	Explain     inventory.Text `toml:"explain" doc:"The manual's 解説 for the step, in ja/en, printed after its commands."`
	Sub         bool           `toml:"sub" doc:"Numbers the step under the one before it (②-1), for a step the manual lacks."`
}

var commonType = reflect.TypeFor[stepCommon]()

// CommonKeys are the keys every step takes besides its kind's parameters,
// read from stepCommon so that tejun kinds cannot list other ones.
func CommonKeys() []string {
	var keys []string
	for i := 0; i < commonType.NumField(); i++ {
		keys = append(keys, commonType.Field(i).Tag.Get("toml"))
	}
	return keys
}

// CommonKeyDocs are the keys every step takes with what each is for, from
// the doc tag on its field, as tejun kinds prints them.
func CommonKeyDocs() [][2]string {
	var out [][2]string
	for i := 0; i < commonType.NumField(); i++ {
		f := commonType.Field(i)
		out = append(out, [2]string{f.Tag.Get("toml"), f.Tag.Get("doc")})
	}
	return out
}

// Parse reads a runbook from src (the CLI reads the file, bounded, with
// tomlsrc.ReadFile) and reports every problem in it at once; file names
// it in messages.
func Parse(file string, src []byte, reg *steps.Registry) (*Runbook, error) {
	s, err := tomlsrc.Parse(file, src)
	if err != nil {
		return nil, err
	}
	ps := s.Check("", s.Raw, reflect.TypeFor[fileSchema[map[string]any]]())
	// Steps are checked against their own kind, and the file goes on being
	// checked past every problem (bad keys are pruned), so one run shows
	// everything.
	kinds := map[string]steps.Kind{}
	for i, sec := range sectionsOf(s.Raw) {
		for j, st := range stepsOf(sec) {
			path := fmt.Sprintf("section[%d].step[%d]", i, j)
			kindName, _ := st["kind"].(string)
			k, ok := reg.Lookup(kindName)
			switch {
			case kindName == "":
				ps = append(ps, s.At(path, "step has no kind"))
				ps = append(ps, s.Check(path, st, commonType)...)
			case !ok:
				ps = append(ps, s.At(path+".kind", "unknown step kind %q%s", kindName, suggestion(kindName, reg.Names())))
			default:
				kinds[path] = k
				ps = append(ps, s.Check(path, st, commonType, k.Type())...)
				if !k.Caps.Verify {
					for _, key := range []string{"retries", "interval"} {
						if _, set := st[key]; set {
							ps = append(ps, s.At(path+"."+key, "%s: only verify kinds wait and retry, %s does not", key, kindName))
						}
					}
				}
			}
		}
	}
	s.Prune(ps)

	var f fileSchema[toml.Primitive]
	md, err := s.Decode(&f)
	if err != nil {
		var more tomlsrc.Problems
		if !errors.As(err, &more) {
			return nil, err
		}
		return nil, append(ps, more...).Err()
	}
	rb := &Runbook{
		File: file, Name: f.Runbook.Name, Title: f.Runbook.Title, Source: f.Runbook.Source, StepStyle: f.Runbook.StepStyle,
		Graph: dag.New(), src: s, md: md, MaxFail: -1,
	}
	if f.Runbook.MaxFail != nil {
		if rb.MaxFail = *f.Runbook.MaxFail; rb.MaxFail < 0 {
			ps = append(ps, s.At("runbook.max_fail", "max_fail %d: want 0 or more hosts", rb.MaxFail))
		}
	}
	if f.Runbook.Inventory != "" {
		rb.Inventory = f.Runbook.Inventory
		if !filepath.IsAbs(rb.Inventory) {
			rb.Inventory = filepath.Join(filepath.Dir(file), rb.Inventory)
		}
	}
	if rb.Name == "" {
		ps = append(ps, s.At("runbook", "runbook.name is missing"))
	}
	switch rb.StepStyle {
	case "", "circled", "paren":
	default:
		ps = append(ps, s.At("runbook.step_style", "step_style %q: want circled or paren", rb.StepStyle))
	}
	rb.Vars = inventory.Vars(s, &ps, "vars", f.Vars)
	ps = append(ps, rb.loadSecrets(f.Secrets)...)
	ps = append(ps, rb.loadSections(f.Section, kinds)...)
	ps = append(ps, rb.link()...)
	return rb, ps.Err()
}

// Runnable reports whether a step's kind is known; a runbook with problems
// may still hold steps whose kind is not, and those are left out of binding.
func (st *Step) Runnable() bool {
	return st.Kind.New != nil
}

func sectionsOf(raw map[string]any) []map[string]any {
	secs, _ := raw["section"].([]map[string]any)
	return secs
}

func stepsOf(sec map[string]any) []map[string]any {
	sts, _ := sec["step"].([]map[string]any)
	return sts
}

func suggestion(word string, known []string) string {
	if c := tomlsrc.Closest(word, known); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return fmt.Sprintf(" (known kinds: %s)", strings.Join(known, ", "))
}

func (rb *Runbook) loadSecrets(in map[string]secretSchema) tomlsrc.Problems {
	var ps tomlsrc.Problems
	for name, sc := range in {
		if sc.Env == "" && sc.File == "" && !sc.Prompt {
			ps = append(ps, rb.src.At("secrets."+name, "secret %s: say where it comes from: env, file, or prompt = true", name))
		}
		rb.Secrets = append(rb.Secrets, &Secret{Name: name, Env: sc.Env, File: sc.File, Prompt: sc.Prompt, Description: sc.Description})
	}
	sort.Slice(rb.Secrets, func(i, j int) bool { return rb.Secrets[i].Name < rb.Secrets[j].Name })
	return ps
}

// Secret returns the declared secret called name, or nil.
func (rb *Runbook) Secret(name string) *Secret {
	for _, s := range rb.Secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (rb *Runbook) loadSections(in []sectionSchema[toml.Primitive], kinds map[string]steps.Kind) tomlsrc.Problems {
	var ps tomlsrc.Problems
	seenSection := map[string]int{}
	number := 0
	for i, sc := range in {
		path := fmt.Sprintf("section[%d]", i)
		sec := &Section{ID: sc.ID, Title: sc.Title, On: sc.On, Note: sc.Note, Numbered: sc.Number, Optional: sc.Optional,
			With: sc.With, IfNoHosts: sc.IfNoHosts, Always: sc.Always}
		if (sc.Numbered == nil || *sc.Numbered) && sc.Number == "" {
			number++
			sec.Number = number
		}
		if sc.ID == "" {
			ps = append(ps, rb.src.At(path, "section has no id"))
		} else if first, dup := seenSection[sc.ID]; dup {
			ps = append(ps, rb.src.At(path+".id", "section id %q is used twice (first on line %d)", sc.ID, first))
		} else {
			seenSection[sc.ID] = rb.src.Index.Line(path + ".id")
		}
		if sc.Title.JA == "" && sc.Title.EN == "" {
			ps = append(ps, rb.src.At(path, "section %s has no title", sc.ID))
		}
		if len(sc.Step) == 0 {
			ps = append(ps, rb.src.At(path, "section %s has no steps", sc.ID))
		}
		n, sub := 0, 0
		for j, prim := range sc.Step {
			st, sps := rb.loadStep(fmt.Sprintf("%s.step[%d]", path, j), prim, kinds)
			ps = append(ps, sps...)
			st.Section = sec
			if st.Sub > 0 && n == 0 {
				ps = append(ps, rb.src.At(st.path+".sub", "step %s: sub numbers a step under the one before it; it is the section's first", st.ID))
			}
			if st.Sub > 0 && n > 0 {
				sub++
				st.Sub = sub
			} else {
				n, sub, st.Sub = n+1, 0, 0
			}
			st.Number = n
			st.style = rb.StepStyle
			if st.On == "" {
				st.On = sec.On
			}
			if st.On == "" {
				ps = append(ps, rb.src.At(st.path, "step %s: no host: set on in the step or its section", st.ID))
			}
			sec.Steps = append(sec.Steps, st)
			rb.Steps = append(rb.Steps, st)
		}
		rb.Sections = append(rb.Sections, sec)
	}
	if len(in) == 0 {
		ps = append(ps, tomlsrc.Problem{File: rb.File, Msg: "no sections: add [[section]] tables with [[section.step]] steps"})
	}
	for i, sec := range rb.Sections {
		for j, w := range sec.With {
			at := fmt.Sprintf("section[%d].with[%d]", i, j)
			switch _, known := seenSection[w]; {
			case !known:
				ps = append(ps, rb.src.At(at, "section %s: with %q is not a section", sec.ID, w))
			case !sec.Optional:
				ps = append(ps, rb.src.At(at, "section %s: with only means something for an optional section (the others always run)", sec.ID))
			}
		}
	}
	return ps
}

func (rb *Runbook) loadStep(path string, prim toml.Primitive, kinds map[string]steps.Kind) (*Step, tomlsrc.Problems) {
	var ps tomlsrc.Problems
	var c stepCommon
	if err := rb.md.PrimitiveDecode(prim, &c); err != nil {
		ps = append(ps, rb.src.At(path, "%v", err))
	}
	st := &Step{
		ID: c.ID, Kind: kinds[path], Title: c.Title, Note: c.Note, On: c.On,
		Timeout: c.Timeout.Duration, Retries: c.Retries, Interval: c.Interval.Duration,
		DoneWhen: c.DoneWhen, Examples: c.Examples, Explain: c.Explain, path: path, prim: prim,
	}
	if c.Sub {
		st.Sub = 1 // numbered by loadSections
	}
	if c.Needs != nil {
		st.Needs = *c.Needs
		if st.Needs == nil {
			st.Needs = []string{} // explicit "needs = []": a root step
		}
	}
	if c.ID == "" {
		ps = append(ps, rb.src.At(path, "step has no id"))
	}
	if c.Title.JA == "" && c.Title.EN == "" {
		ps = append(ps, rb.src.At(path, "step %s has no title", c.ID))
	}
	if c.Retries < 0 {
		ps = append(ps, rb.src.At(path+".retries", "retries must not be negative"))
	}
	if !st.Runnable() {
		return st, ps
	}
	impl := st.Kind.New()
	if err := rb.md.PrimitiveDecode(prim, impl); err != nil {
		ps = append(ps, rb.src.At(path, "%v", err))
	}
	if d, ok := impl.(steps.Destroyer); ok {
		st.Destructive = d.Destructive()
	}
	if c.Destructive != nil {
		if !*c.Destructive && st.Destructive {
			ps = append(ps, rb.src.At(path+".destructive", "step %s: a %s step cannot be declared not destructive", c.ID, st.Kind.Name))
		}
		st.Destructive = st.Destructive || *c.Destructive
	}
	if su, ok := impl.(steps.SecretUser); ok {
		for _, name := range su.Secrets() {
			if name != "" && rb.Secret(name) == nil {
				ps = append(ps, rb.src.At(path+".secret", "step %s: secret %q is not declared in [secrets]", c.ID, name))
			}
		}
	}
	return st, ps
}

// link builds the graph: ids, needs (default: the step before), cycles.
func (rb *Runbook) link() tomlsrc.Problems {
	var ps tomlsrc.Problems
	first := map[string]*Step{}
	for _, st := range rb.Steps {
		if st.ID == "" {
			continue
		}
		if f, dup := first[st.ID]; dup {
			ps = append(ps, rb.src.At(st.path+".id", "step id %q is used twice (first on line %d)", st.ID, rb.src.Index.Line(f.path+".id")))
			continue
		}
		first[st.ID] = st
		rb.Graph.Add(st.ID)
	}
	ids := rb.Graph.Nodes()
	var prev *Step
	for _, st := range rb.Steps {
		if st.Needs == nil {
			if prev != nil && prev.ID != "" {
				st.Needs = []string{prev.ID}
			}
		}
		prev = st
		if first[st.ID] != st {
			continue
		}
		for i, n := range st.Needs {
			if !rb.Graph.Has(n) {
				ps = append(ps, rb.src.At(fmt.Sprintf("%s.needs[%d]", st.path, i), "step %s needs %q, which is not a step%s", st.ID, n, idSuggestion(n, ids)))
				continue
			}
			rb.Graph.Connect(st.ID, n)
		}
	}
	for _, st := range rb.Steps {
		if st.DoneWhen == "" {
			continue
		}
		u := first[st.DoneWhen]
		switch {
		case u == nil:
			ps = append(ps, rb.src.At(st.path+".done_when", "step %s: done_when %q is not a step%s", st.ID, st.DoneWhen, idSuggestion(st.DoneWhen, ids)))
		case u == st:
			ps = append(ps, rb.src.At(st.path+".done_when", "step %s: done_when names the step itself", st.ID))
		case !u.Runnable():
		default:
			if !u.Kind.Caps.Verify {
				ps = append(ps, rb.src.At(st.path+".done_when", "step %s: done_when %s: a %s step checks nothing; name a verify step", st.ID, u.ID, u.Kind.Name))
			}
		}
	}
	for _, cyc := range rb.Graph.Cycles() {
		st := first[cyc[0]]
		ps = append(ps, rb.src.At(st.path+".needs", "steps form a cycle: %s", strings.Join(cyc, " → ")))
	}
	return ps
}

func idSuggestion(word string, ids []string) string {
	if c := tomlsrc.Closest(word, ids); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// Step returns the step with id, or nil.
func (rb *Runbook) Step(id string) *Step {
	for _, st := range rb.Steps {
		if st.ID == id {
			return st
		}
	}
	return nil
}

// Order returns the steps in the order they run: dependencies first, the
// document's order otherwise.
func (rb *Runbook) Order() []*Step {
	ids, _ := rb.Graph.Order()
	out := make([]*Step, 0, len(ids))
	for _, id := range ids {
		out = append(out, rb.Step(id))
	}
	return out
}

// Label is the manual's number of a step: "1-①", or "■-②" in an unnumbered
// section.
func (st *Step) Label() string {
	sec := "■"
	switch {
	case st.Section.Numbered != "":
		sec = st.Section.Numbered
	case st.Section.Number > 0:
		sec = strconv.Itoa(st.Section.Number)
	}
	return sec + "-" + st.Mark()
}

// LabelIn is Label for a reader of lang: in English the step's number
// is a plain one ("5-3"), as ①, a Japanese typographic numeral, reads
// as noise (or a missing glyph) to someone who asked for English.
func (st *Step) LabelIn(lang string) string {
	if lang != "en" {
		return st.Label()
	}
	sec := "■"
	switch {
	case st.Section.Numbered != "":
		sec = st.Section.Numbered
	case st.Section.Number > 0:
		sec = strconv.Itoa(st.Section.Number)
	}
	return sec + "-" + strconv.Itoa(st.Number)
}

// Mark is the step's own number as its document writes it: ① or (1).
func (st *Step) Mark() string {
	m := Circled(st.Number)
	if st.style == "paren" {
		m = "(" + strconv.Itoa(st.Number) + ")"
	}
	if st.Sub > 0 {
		m += "-" + strconv.Itoa(st.Sub)
	}
	return m
}

// Circled returns ① for 1: the manual numbers its steps this way.
func Circled(n int) string {
	switch {
	case n >= 1 && n <= 20:
		return string(rune(0x2460 + n - 1))
	case n >= 21 && n <= 35:
		return string(rune(0x3251 + n - 21))
	case n >= 36 && n <= 50:
		return string(rune(0x32B1 + n - 36))
	}
	return "(" + strconv.Itoa(n) + ")"
}

// Fullwidth returns "１．" for 1, the manual's section numbering.
func Fullwidth(n int) string {
	var b strings.Builder
	for _, r := range strconv.Itoa(n) {
		b.WriteRune(r - '0' + '０')
	}
	return b.String() + "．"
}
