package run

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"

	"tejun/inventory"
	"tejun/runbook"
	"tejun/steps"
	"tejun/transport/transporttest"
)

// bomb is a kind that is never done; its Apply panics while armed (a
// panic in the walk's goroutine ends the test binary: no recovering from
// it), and counts when not.
type bomb struct{ steps.Command }

var (
	bombArmed   atomic.Bool
	bombApplied atomic.Int32
)

func (*bomb) Check(context.Context, steps.Env) (steps.Status, error) {
	return steps.NotDone("not yet"), nil
}
func (*bomb) Apply(context.Context, steps.Env) error {
	if bombArmed.Load() {
		panic("Apply reached in a plan")
	}
	bombApplied.Add(1)
	return nil
}

// Plan is a different operation, not a flag inside the apply path: a kind
// whose Apply panics is planned as "will change", and a run of the same
// runbook (which does apply) reaches it.
func TestPlanNeverReachesApply(t *testing.T) {
	reg := steps.NewRegistry(append(steps.Generic(), steps.Kind{Name: "bomb", New: func() steps.Step { return &bomb{} }})...)
	rb, err := runbook.Parse("rb.toml", []byte(`
[runbook]
name = "p"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "boom"
kind = "bomb"
title.en = "boom"
argv = ["true"]
`), reg)
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := inventory.Parse("inv.toml", []byte("[hosts.h1]\n"))
	b, err := runbook.Bind(rb, inv)
	if err != nil {
		t.Fatal(err)
	}
	dial := fakes(map[string]*transporttest.Fake{"h1": transporttest.New()})
	rec := &recorder{}
	bombArmed.Store(true)
	_, err = Run(context.Background(), b, Options{Plan: true, Dial: dial}, rec)
	bombArmed.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.status("boom", "h1"); got != WillChange {
		t.Fatalf("plan said %q, want %q: %+v", got, WillChange, rec.events)
	}
	if _, err := Run(context.Background(), b, Options{Dial: dial}, &recorder{}); err != nil {
		t.Fatal(err)
	}
	if bombApplied.Load() != 1 {
		t.Error("a run did not reach Apply: the test's kind proves nothing")
	}
}

// The plan operation holds nothing that leads to a kind's Apply: no
// executor, binding, instance, hosts or kind value, only functions and the
// mask; what it is given of a step (checkOnly) is functions alone, none
// taking or giving a kind. (A runbook.Step would do: its Kind makes kinds.)
func TestPlanOperationHasNoApplyPath(t *testing.T) {
	applier := reflect.TypeOf((*steps.Applier)(nil)).Elem()
	var leads func(t reflect.Type, seen map[reflect.Type]bool) string
	leads = func(ty reflect.Type, seen map[reflect.Type]bool) string {
		if seen[ty] {
			return ""
		}
		seen[ty] = true
		switch {
		case ty == reflect.TypeOf(&Executor{}):
			return "the executor"
		case ty.Kind() == reflect.Interface && ty != reflect.TypeOf((*steps.Env)(nil)).Elem() && ty != reflect.TypeOf((*error)(nil)).Elem() && ty != reflect.TypeOf((*context.Context)(nil)).Elem():
			return "an interface value " + ty.String() + ", which a type assertion could make an Applier"
		case ty.Implements(applier):
			return ty.String() + ", an Applier"
		}
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			return leads(ty.Elem(), seen)
		case reflect.Struct:
			for i := 0; i < ty.NumField(); i++ {
				if why := leads(ty.Field(i).Type, seen); why != "" {
					return ty.Field(i).Name + ": " + why
				}
			}
		case reflect.Func:
			for i := 0; i < ty.NumIn(); i++ {
				if why := leads(ty.In(i), seen); why != "" {
					return "a func taking " + why
				}
			}
			for i := 0; i < ty.NumOut(); i++ {
				if ty.Out(i) == reflect.TypeOf(Event{}) {
					continue // made by the plan, its Step set by the walk afterwards: nothing comes in
				}
				if why := leads(ty.Out(i), seen); why != "" {
					return "a func giving " + why
				}
			}
		}
		return ""
	}
	for _, ty := range []reflect.Type{reflect.TypeOf(plan{}), reflect.TypeOf(checkOnly{})} {
		if why := leads(ty, map[reflect.Type]bool{}); why != "" {
			t.Errorf("%s leads to Apply: %s", ty, why)
		}
	}
}
