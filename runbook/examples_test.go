package runbook_test

import (
	"strings"
	"testing"

	"tejun/runbook"
)

const withExamples = `
[runbook]
name = "e"
[[section]]
id = "s"
on = "nodes"
title.en = "s"
[[section.step]]
id = "show"
kind = "command"
title.en = "show the root"
argv = ["ls", "{{ host.root }}"]
explain.ja = "{{ host.name }} のルートを表示します"
explain.en = "Lists {{ host.name }}'s root"
[[section.step.example]]
heading.ja = "実行結果：例"
output = "{{ host.root }}/db.have  owned by {{ vars.os_user }}"
note.en = "Anything else: stop"
`

// A step's example outputs and explanation are templated per host like
// its title: the manual's sample output names the site's own values.
func TestExamplesPerHost(t *testing.T) {
	b := bind(t, withExamples)
	ins := b.Instances["show"]
	if len(ins) != 2 {
		t.Fatalf("%d instances", len(ins))
	}
	ex := ins[1].Examples
	if len(ex) != 1 || ex[0].Output != "/p4/two/db.have  owned by perforce" || ex[0].Heading.JA != "実行結果：例" || ex[0].Note.EN != "Anything else: stop" {
		t.Errorf("examples of n2: %+v", ex)
	}
	if ins[0].Explain.In("en") != "Lists n1's root" {
		t.Errorf("explain of n1: %+v", ins[0].Explain)
	}
}

// A template an example cannot resolve is a problem at load, at its key,
// never an empty string in the procedure.
func TestExampleTemplateErrors(t *testing.T) {
	if _, err := tryBind(t, strings.Replace(withExamples, "vars.os_user", "vars.nope", 1)); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing var in an example: %v", err)
	}
	if _, err := runbook.Parse("rb.toml", []byte(strings.Replace(withExamples, `output = "`, `outptu = "`, 1)), registry()); err == nil || !strings.Contains(err.Error(), "outptu") {
		t.Errorf("misspelt example key accepted: %v", err)
	}
}
