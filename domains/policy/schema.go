// Package policy evaluates what a domain's configuration says about one call: whether its
// arguments match the tool's JSON Schema, and whether it needs a person's approval (CEL
// conditions). It is the only package that compiles schemas and conditions.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"mcp-platform/domains"
)

// Schema is a compiled JSON Schema for a tool's input or output.
type Schema struct{ s *jsonschema.Schema }

var printer = message.NewPrinter(language.English)

// CompileSchema compiles a JSON Schema given as decoded JSON/YAML.
func CompileSchema(doc map[string]any) (*Schema, error) {
	// Round-trip through JSON so YAML-decoded values (ints, nested maps) become JSON values.
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("tool.json", v); err != nil {
		return nil, err
	}
	s, err := c.Compile("tool.json")
	if err != nil {
		return nil, err
	}
	return &Schema{s: s}, nil
}

// Validate checks a decoded JSON value against the schema.
func (s *Schema) Validate(v any) error {
	// Normalise to the JSON data model (numbers as json.Number) the validator expects.
	b, err := json.Marshal(v)
	if err != nil {
		return &domains.ValidationError{Problems: []domains.Problem{{Message: "not JSON: " + err.Error()}}}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return &domains.ValidationError{Problems: []domains.Problem{{Message: "not JSON: " + err.Error()}}}
	}
	err = s.s.Validate(inst)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return &domains.ValidationError{Problems: []domains.Problem{{Message: err.Error()}}}
	}
	var problems []domains.Problem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			problems = append(problems, leafProblems(e)...)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Field < problems[j].Field })
	return &domains.ValidationError{Problems: problems}
}

// leafProblems are the problems of one failed keyword, each with the path of the value it is
// about. A keyword about an object's properties (required, additionalProperties, dependent
// required) fails at the object, so it names each property itself: "record_id: missing", not
// ": missing property 'record_id'".
func leafProblems(e *jsonschema.ValidationError) []domains.Problem {
	at := func(prop string) string { return strings.Join(append(slices.Clone(e.InstanceLocation), prop), ".") }
	var props []string
	var message string
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		props, message = k.Missing, "is required"
	case *kind.AdditionalProperties:
		props, message = k.Properties, "is not allowed: the schema has no such property"
	case *kind.DependentRequired:
		props, message = k.Missing, fmt.Sprintf("is required when %s is present", at(k.Prop))
	case *kind.Dependency:
		props, message = k.Missing, fmt.Sprintf("is required when %s is present", at(k.Prop))
	}
	if len(props) == 0 {
		return []domains.Problem{{Field: strings.Join(e.InstanceLocation, "."), Message: e.ErrorKind.LocalizedString(printer)}}
	}
	problems := make([]domains.Problem, 0, len(props))
	for _, p := range props {
		problems = append(problems, domains.Problem{Field: at(p), Message: message})
	}
	return problems
}

// ValidateArgs checks a tool's arguments against its input schema. It returns a
// *domains.ValidationError listing each problem.
func ValidateArgs(t *domains.Tool, args map[string]any) error {
	s, err := inputSchema(t)
	if err != nil {
		return fmt.Errorf("compile input schema of %s: %w", t.Name, err)
	}
	if args == nil {
		args = map[string]any{}
	}
	return s.Validate(args)
}

// schemas caches compiled input schemas by their JSON text: calls are validated when planned and
// again on the domain's worker, and a compiled schema is safe for concurrent use.
var schemas sync.Map

func inputSchema(t *domains.Tool) (*Schema, error) {
	key, err := json.Marshal(t.InputSchema)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	if s, ok := schemas.Load(string(key)); ok {
		return s.(*Schema), nil
	}
	s, err := CompileSchema(t.InputSchema)
	if err != nil {
		return nil, err
	}
	schemas.Store(string(key), s)
	return s, nil
}
