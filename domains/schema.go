package domains

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
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

// Problem is one reason a value does not match a schema.
type Problem struct {
	// Field is the dotted path of the offending value ("items.0.quantity"), "" for the whole.
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every way a value fails its schema, field by field.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		if p.Field == "" {
			parts = append(parts, p.Message)
		} else {
			parts = append(parts, p.Field+": "+p.Message)
		}
	}
	return "invalid parameters: " + strings.Join(parts, "; ")
}

// Validate checks a decoded JSON value against the schema.
func (s *Schema) Validate(v any) error {
	// Normalise to the JSON data model (numbers as json.Number) the validator expects.
	b, err := json.Marshal(v)
	if err != nil {
		return &ValidationError{Problems: []Problem{{Message: "not JSON: " + err.Error()}}}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return &ValidationError{Problems: []Problem{{Message: "not JSON: " + err.Error()}}}
	}
	err = s.s.Validate(inst)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return &ValidationError{Problems: []Problem{{Message: err.Error()}}}
	}
	var problems []Problem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			problems = append(problems, Problem{Field: strings.Join(e.InstanceLocation, "."), Message: e.ErrorKind.LocalizedString(printer)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Field < problems[j].Field })
	return &ValidationError{Problems: problems}
}

// ValidateArgs checks a tool's arguments against its input schema.
func (t *Tool) ValidateArgs(args map[string]any) error {
	s, err := CompileSchema(t.InputSchema)
	if err != nil {
		return fmt.Errorf("compile input schema of %s: %w", t.Name, err)
	}
	if args == nil {
		args = map[string]any{}
	}
	return s.Validate(args)
}
