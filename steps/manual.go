package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"tejun/inventory"
)

// Manual is work only a person can do (a GUI, a cloud console, a phone
// call). It stays in the runbook so the runbook is the whole procedure and
// its numbering matches the document.
type Manual struct {
	Instruction inventory.Text `toml:"instruction" doc:"What the person must do, in ja/en: shown in the dry-run and asked for confirmation in a run."`
	// Skippable lets an unattended run pass the step without a person.
	Skippable bool `toml:"skippable" doc:"Lets an unattended run (--yes, no terminal) pass the step without a person."`
}

func (m *Manual) Validate() []Problem {
	if m.Instruction.JA == "" && m.Instruction.EN == "" {
		return []Problem{{"instruction", "a manual step needs an instruction (ja and/or en)"}}
	}
	return nil
}

func (m *Manual) Describe(lang string) Description {
	text := strings.TrimRight(m.Instruction.In(lang), "\n")
	d := Description{Blocks: []Block{{Heading: T(lang, "手作業", "By hand"), Lines: strings.Split(text, "\n")}}}
	if m.Skippable {
		d.Notes = append(d.Notes, T(lang, "無人実行では省略できます", "May be skipped in an unattended run"))
	}
	return d
}

// Plan is empty: the executor asks the operator instead.
func (m *Manual) Plan() Plan { return Plan{} }

// Check cannot know: only the operator can say the work is done.
func (m *Manual) Check(ctx context.Context, env Env) (Status, error) {
	return NotDone("needs the operator"), nil
}

// Apply shows the instruction and waits for the operator's word.
func (m *Manual) Apply(ctx context.Context, env Env) error {
	err := env.Confirm(ctx, m.Instruction.In("ja")+"\n"+m.Instruction.In("en"))
	if errors.Is(err, ErrNoOperator) && m.Skippable {
		return &Skip{Reason: "manual step, skippable, no operator"}
	}
	if errors.Is(err, ErrNoOperator) {
		return fmt.Errorf("manual step needs an operator: run on a terminal, or pass --assume-done for it once the work is done")
	}
	return err
}
