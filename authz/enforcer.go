package authz

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"

	"mcp-platform/domains"
)

// casbinModel is RBAC where the subject is one of the caller's roles (identity providers hand us
// roles, so there is no user-to-role grouping here), objects are tool names matched against
// glob patterns ("hr.*") and actions are matched the same way ("*" for admin). The fourth policy
// field records who owns the rule (a domain, or the platform) so one domain's rules can be
// replaced without touching the others; the matcher ignores it.
const casbinModel = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, owner

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == p.sub && globMatch(r.obj, p.obj) && globMatch(r.act, p.act)
`

const (
	// platformOwner owns the built-in rules. Domain names cannot start with "@", so no domain
	// can replace or remove them.
	platformOwner = "@platform"
	// auditObject is the audit log as a Casbin object. It has no "." so no domain pattern
	// ("<domain>.…") can match it, and Can refuses it as a tool name.
	auditObject = "@audit"
	auditRead   = "read"
	// payloadsObject is the payloads Temporal stores, which the gateway's codec server decodes
	// for operators. Like auditObject, no domain pattern can match it.
	payloadsObject = "@payloads"
	payloadsDecode = "decode"
	// usageObject is every user's LLM usage; like auditObject, no domain pattern can match it.
	usageObject = "@usage"
	usageRead   = "read"

	// toolScopePrefix marks the scopes that narrow which tools a token may be used for.
	toolScopePrefix = "tools:"
)

// The shapes domains.Config.Normalize accepts; checked again here because a domain's rules are
// a security boundary and the enforcer may be fed from elsewhere.
var (
	domainNameRE  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	roleRE        = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	toolPatternRE = regexp.MustCompile(`^[a-z0-9_.*]+$`)
	domainActions = []string{domains.ActionExecute, domains.ActionApprove, domains.ActionReadSensitive}
)

// Enforcer decides whether a principal may act on a tool. Platform rules are built in; each
// domain's rules come from its configuration and can be replaced while requests are served. It
// is safe for concurrent use.
type Enforcer struct {
	// mu makes a domain's replacement atomic for readers, and a multi-role check consistent.
	mu sync.RWMutex
	e  *casbin.Enforcer
	// generation counts rule changes, so decisions may be cached until the next one.
	generation atomic.Uint64
}

// Generation changes whenever a domain's rules are replaced or removed: a decision cached
// under one generation holds until it changes.
func (e *Enforcer) Generation() uint64 { return e.generation.Load() }

// NewEnforcer returns an enforcer holding the platform rules: role "admin" may do every action
// on every tool, role "auditor" may read the audit log, and role "operator" may decode the
// payloads Temporal stores, with their sensitive fields masked (admin also sees them in clear).
// It returns an error only if the built-in model or rules are broken.
func NewEnforcer() (*Enforcer, error) {
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, fmt.Errorf("new enforcer: parse model: %w", err)
	}
	ce, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("new enforcer: %w", err)
	}
	if _, err := ce.AddPolicies([][]string{
		{"admin", "*", "*", platformOwner},
		{"auditor", auditObject, auditRead, platformOwner},
		{"operator", payloadsObject, payloadsDecode, platformOwner},
	}); err != nil {
		return nil, fmt.Errorf("new enforcer: add platform policies: %w", err)
	}
	return &Enforcer{e: ce}, nil
}

// SetDomainPolicies replaces all rules of domain with perms, atomically: a concurrent Can sees
// either the old rules or the new ones. Permissions without actions grant execute.
//
// It returns an error, and changes nothing, when domain is not a valid domain name, a role is
// not a valid role name, an action is not execute, approve or read_sensitive, or a tool pattern lies outside
// "<domain>." — a domain can neither grant access to, nor shadow, another domain's tools.
func (e *Enforcer) SetDomainPolicies(domain string, perms []domains.Permission) error {
	if !domainNameRE.MatchString(domain) {
		return fmt.Errorf("set policies of domain %q: not a valid domain name", domain)
	}
	var rules [][]string
	for i, p := range perms {
		field := fmt.Sprintf("set policies of domain %q: permissions[%d]", domain, i)
		if !roleRE.MatchString(p.Role) {
			return fmt.Errorf("%s.role: %q is not a valid role name", field, p.Role)
		}
		if len(p.Tools) == 0 {
			return fmt.Errorf("%s.tools: lists no tool pattern", field)
		}
		actions := p.Actions
		if len(actions) == 0 {
			actions = []string{domains.ActionExecute}
		}
		for j, a := range actions {
			if !slices.Contains(domainActions, a) {
				return fmt.Errorf("%s.actions[%d]: %q is not one of %s", field, j, a, strings.Join(domainActions, ", "))
			}
		}
		for j, pat := range p.Tools {
			if !toolPatternRE.MatchString(pat) || !strings.HasPrefix(pat, domain+".") {
				return fmt.Errorf("%s.tools[%d]: %q is not a tool pattern inside the domain's namespace %q", field, j, pat, domain+".*")
			}
			for _, a := range actions {
				rule := []string{p.Role, pat, a, domain}
				if !slices.ContainsFunc(rules, func(r []string) bool { return slices.Equal(r, rule) }) {
					rules = append(rules, rule)
				}
			}
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.generation.Add(1)
	old, err := e.e.GetFilteredPolicy(3, domain)
	if err != nil {
		return fmt.Errorf("set policies of domain %q: read current rules: %w", domain, err)
	}
	if err := e.replace(domain, rules); err != nil {
		if rerr := e.replace(domain, old); rerr != nil {
			return fmt.Errorf("set policies of domain %q: %w (restoring the previous rules failed too: %v)", domain, err, rerr)
		}
		return fmt.Errorf("set policies of domain %q: %w", domain, err)
	}
	return nil
}

// replace swaps the rules owned by owner for rules. The caller holds mu for writing.
func (e *Enforcer) replace(owner string, rules [][]string) error {
	if _, err := e.e.RemoveFilteredPolicy(3, owner); err != nil {
		return fmt.Errorf("remove rules: %w", err)
	}
	if len(rules) == 0 {
		return nil
	}
	if _, err := e.e.AddPolicies(rules); err != nil {
		return fmt.Errorf("add rules: %w", err)
	}
	return nil
}

// RemoveDomain drops every rule of domain, so its tools are allowed to admin only. Unknown
// domains and names that are not domain names are ignored.
func (e *Enforcer) RemoveDomain(domain string) {
	if !domainNameRE.MatchString(domain) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.generation.Add(1)
	// With no adapter, removing in-memory rules only fails for a model without "p", which ours
	// always has.
	_, _ = e.e.RemoveFilteredPolicy(3, domain)
}

// Can reports whether p may perform action (domains.ActionExecute, ActionApprove, ActionReadSensitive) on
// the namespaced tool: some role of p must grant it, and p's scopes must permit the tool.
// Scopes only ever narrow: those of the form "tools:<pattern>" ("tools:hr.*",
// "tools:hr.get_employee") restrict p to matching tools; without any "tools:" scope there is no
// narrowing; other scopes (openid, profile, ...) are ignored. Names that are not tool names
// (empty, no namespace, glob characters) are denied.
func (e *Enforcer) Can(p Principal, action, tool string) bool {
	if !isToolName(tool) || !isPlainName(action) || !scopesAllow(p.Scopes, tool) {
		return false
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.anyRoleGrants(p.Roles, tool, action)
}

// Allowed makes Can's decision for each of tools at once: out[i] reports whether p may
// perform action on tools[i]. It reads the rules of p's roles once and matches them with the
// model's own glob function, so listing a thousand tools costs a thousand glob matches rather
// than a thousand Casbin evaluations; TestAllowedAgreesWithCan holds the two to the same
// answers.
func (e *Enforcer) Allowed(p Principal, action string, tools []string) []bool {
	out := make([]bool, len(tools))
	if !isPlainName(action) {
		return out
	}
	var rules [][]string
	e.mu.RLock()
	for _, role := range p.Roles {
		if role == "" {
			continue
		}
		// An in-memory model always has "p": reading its rules cannot fail.
		pol, _ := e.e.GetFilteredPolicy(0, role)
		rules = append(rules, pol...)
	}
	e.mu.RUnlock()
	for i, tool := range tools {
		if !isToolName(tool) || !scopesAllow(p.Scopes, tool) {
			continue
		}
		for _, r := range rules {
			// The matcher's globMatch(r.obj, p.obj) && globMatch(r.act, p.act); an error denies.
			if ok, err := util.GlobMatch(tool, r[1]); err != nil || !ok {
				continue
			}
			if ok, err := util.GlobMatch(action, r[2]); err == nil && ok {
				out[i] = true
				break
			}
		}
	}
	return out
}

// CanReadAudit reports whether p may read the audit log (roles auditor and admin). Tool scopes
// do not apply: the audit log is not a tool.
func (e *Enforcer) CanReadAudit(p Principal) bool {
	return e.platformGrants(p, auditObject, auditRead)
}

// CanReadAllUsage reports whether p may read every user's LLM usage (role admin, through its
// rule on everything); everyone may read their own. Tool scopes do not apply.
func (e *Enforcer) CanReadAllUsage(p Principal) bool {
	return e.platformGrants(p, usageObject, usageRead)
}

// CanDecodePayloads reports whether p may read the payloads Temporal stores through the codec
// server (roles operator and admin). Tool scopes do not apply: payloads are not tools.
func (e *Enforcer) CanDecodePayloads(p Principal) bool {
	return e.platformGrants(p, payloadsObject, payloadsDecode)
}

// CanReadSensitivePayloads reports whether p sees the sensitive fields of decoded payloads in
// clear (role admin); everyone else who may decode sees them masked.
func (e *Enforcer) CanReadSensitivePayloads(p Principal) bool {
	return e.platformGrants(p, payloadsObject, domains.ActionReadSensitive)
}

// platformGrants reports whether a role of p may act on one of the platform's own objects
// (which are not tools, so tool scopes do not narrow them).
func (e *Enforcer) platformGrants(p Principal, obj, act string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.anyRoleGrants(p.Roles, obj, act)
}

// Approvers returns the roles that may approve calls of tool, sorted, for messages such as
// "waiting for approval by hr_manager". Admin is included, as it may approve anything.
func (e *Enforcer) Approvers(tool string) []string {
	if !isToolName(tool) {
		return nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	subjects, err := e.e.GetAllSubjects()
	if err != nil {
		return nil
	}
	var out []string
	for _, role := range subjects {
		if !slices.Contains(out, role) && e.anyRoleGrants([]string{role}, tool, domains.ActionApprove) {
			out = append(out, role)
		}
	}
	slices.Sort(out)
	return out
}

// anyRoleGrants asks Casbin about each role in turn. The caller holds mu for reading. An
// evaluation error denies.
func (e *Enforcer) anyRoleGrants(roles []string, obj, act string) bool {
	for _, role := range roles {
		if role == "" {
			continue
		}
		if ok, err := e.e.Enforce(role, obj, act); err == nil && ok {
			return true
		}
	}
	return false
}

// ScopesAllow reports whether p's token scopes cover the namespaced tool (roles aside): what
// binds approvals to the token's scopes as calls are.
func (p Principal) ScopesAllow(tool string) bool {
	return isToolName(tool) && scopesAllow(p.Scopes, tool)
}

// scopesAllow applies the "tools:<pattern>" scopes: with none, every tool passes; otherwise the
// tool must match one of them. A malformed pattern matches nothing, so it fails closed.
func scopesAllow(scopes []string, tool string) bool {
	narrowed := false
	for _, s := range scopes {
		pat, ok := strings.CutPrefix(s, toolScopePrefix)
		if !ok {
			continue
		}
		narrowed = true
		if match, err := util.GlobMatch(tool, pat); err == nil && match {
			return true
		}
	}
	return !narrowed
}

// isToolName reports whether name looks like a namespaced tool ("hr.get_employee"): a
// namespace, a dot, a name, and nothing a glob would interpret.
func isToolName(name string) bool {
	ns, short, ok := strings.Cut(name, ".")
	return ok && ns != "" && short != "" && isPlainName(name) && !strings.HasPrefix(name, "@")
}

// isPlainName reports whether s is non-empty and free of glob syntax and path separators, so a
// request can never act as a pattern.
func isPlainName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "*?[]{}\\/! \t\n")
}
