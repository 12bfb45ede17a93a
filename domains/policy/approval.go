package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	"mcp-platform/domains"
)

// DefaultApprovalTimeout is how long a request for approval waits before it expires.
const DefaultApprovalTimeout = 24 * time.Hour

// ApprovalDecision is whether one call needs approval, and under what terms.
type ApprovalDecision struct {
	Required          bool
	Reason            string
	Approvers         []string
	AllowSelfApproval bool
	Timeout           time.Duration
}

// celEnv is the environment approval conditions are written in: args, user, and sum(list)
// for totals such as sum(args.items.map(i, i.quantity * i.unit_price)).
var celEnv = func() *cel.Env {
	env, err := cel.NewEnv(
		cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("user", cel.MapType(cel.StringType, cel.DynType)),
		cel.Function("sum", cel.Overload("sum_list", []*cel.Type{cel.ListType(cel.DynType)}, cel.DoubleType,
			cel.UnaryBinding(sumList))),
	)
	if err != nil {
		panic(err)
	}
	return env
}()

// sumList adds the numbers of a CEL list.
func sumList(v ref.Val) ref.Val {
	l, ok := v.(traits.Lister)
	if !ok {
		return types.NewErr("sum needs a list")
	}
	total := 0.0
	for it := l.Iterator(); it.HasNext() == types.True; {
		switch n := it.Next().(type) {
		case types.Double:
			total += float64(n)
		case types.Int:
			total += float64(n)
		case types.Uint:
			total += float64(n)
		default:
			return types.NewErr("sum needs numbers")
		}
	}
	return types.Double(total)
}

// CompileCondition checks a condition and returns its program.
func CompileCondition(expr string) (cel.Program, error) {
	if prg, ok := programs.Load(expr); ok {
		return prg.(cel.Program), nil
	}
	ast, iss := celEnv.Compile(expr)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("the condition must be true or false, not %s", ast.OutputType())
	}
	prg, err := celEnv.Program(ast)
	if err != nil {
		return nil, err
	}
	programs.Store(expr, prg)
	return prg, nil
}

// programs caches compiled conditions by their text: every planned call and every re-check on a
// worker evaluates its tool's condition, and a CEL program is safe for concurrent use.
var programs sync.Map

// NeedsApproval decides whether a call of t with args by the given user needs approval. A
// condition that cannot be evaluated (a missing argument) requires approval: when in doubt, a
// person decides.
func NeedsApproval(t *domains.Tool, args map[string]any, userID string, roles []string) ApprovalDecision {
	if !t.Annotations.RequiresApproval && t.Approval == nil {
		return ApprovalDecision{}
	}
	d := ApprovalDecision{Required: true, Timeout: DefaultApprovalTimeout, Reason: t.Name + " changes a business system"}
	if a := t.Approval; a != nil {
		d.Approvers, d.AllowSelfApproval = a.Approvers, a.AllowSelfApproval
		if a.Timeout > 0 {
			d.Timeout = a.Timeout.Std()
		}
		if a.Reason != "" {
			d.Reason = a.Reason
		}
		if a.When != "" {
			prg, err := CompileCondition(a.When)
			if err != nil {
				return d
			}
			if args == nil {
				args = map[string]any{}
			}
			out, _, err := prg.Eval(map[string]any{"args": args, "user": map[string]any{"id": userID, "roles": roles}})
			if err == nil {
				if b, ok := out.Value().(bool); ok && !b {
					return ApprovalDecision{}
				}
			}
			if d.Reason == t.Name+" changes a business system" {
				d.Reason = "policy: " + a.When
			}
		}
	}
	return d
}

// ArgsHash fingerprints a call's arguments, so an approval binds to exactly what was shown.
func ArgsHash(args map[string]any) string {
	if args == nil {
		args = map[string]any{}
	}
	b, _ := json.Marshal(args) // map keys are sorted: the encoding is canonical enough
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
