package authz

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
)

const (
	execute = domains.ActionExecute
	approve = domains.ActionApprove
)

// newTestEnforcer loads HR and ERP rules shaped like the example domains' configuration.
func newTestEnforcer(tb testing.TB) *Enforcer {
	tb.Helper()
	e, err := NewEnforcer()
	require.NoError(tb, err)
	require.NoError(tb, e.SetDomainPolicies("hr", []domains.Permission{
		{Role: "hr_manager", Tools: []string{"hr.*"}, Actions: []string{execute, approve}},
		{Role: "employee", Tools: []string{"hr.get_employee", "hr.search_employees"}},
	}))
	require.NoError(tb, e.SetDomainPolicies("erp", []domains.Permission{
		{Role: "finance_clerk", Tools: []string{"erp.get_invoice", "erp.create_payment"}, Actions: []string{execute}},
		{Role: "finance_manager", Tools: []string{"erp.*"}, Actions: []string{approve}},
	}))
	return e
}

func TestCan(t *testing.T) {
	e := newTestEnforcer(t)
	hrManager := Principal{Subject: "alice", Roles: []string{"hr_manager", "employee"}}
	employee := Principal{Subject: "eve", Roles: []string{"employee"}}
	clerk := Principal{Subject: "bob", Roles: []string{"finance_clerk", "employee"}}
	admin := Principal{Subject: "root", Roles: []string{"admin"}}
	auditor := Principal{Subject: "audrey", Roles: []string{"auditor", "employee"}}
	with := func(p Principal, scopes ...string) Principal { p.Scopes = scopes; return p }

	tests := []struct {
		name   string
		p      Principal
		action string
		tool   string
		want   bool
	}{
		{name: "OKRoleGrantsDomainGlob", p: hrManager, action: execute, tool: "hr.get_employee", want: true},
		{name: "OKGlobCoversUnlistedTool", p: hrManager, action: execute, tool: "hr.update_salary", want: true},
		{name: "ErrOtherDomain", p: hrManager, action: execute, tool: "erp.get_invoice"},
		{name: "OKExactTool", p: employee, action: execute, tool: "hr.search_employees", want: true},
		{name: "ErrToolNotListed", p: employee, action: execute, tool: "hr.update_salary"},
		{name: "OKAnyRoleSuffices", p: clerk, action: execute, tool: "hr.get_employee", want: true},
		{name: "OKAdminExecutesAnything", p: admin, action: execute, tool: "devops.restart_service", want: true},
		{name: "OKAdminApprovesAnything", p: admin, action: approve, tool: "erp.create_payment", want: true},
		{name: "ErrNoRoles", p: Principal{Subject: "nobody"}, action: execute, tool: "hr.get_employee"},
		{name: "ErrUnknownRole", p: Principal{Subject: "x", Roles: []string{"hr_managerx"}}, action: execute, tool: "hr.get_employee"},

		{name: "OKManagerApproves", p: hrManager, action: approve, tool: "hr.update_salary", want: true},
		{name: "ErrExecuteDoesNotImplyApprove", p: employee, action: approve, tool: "hr.get_employee"},
		{name: "ErrApproveDoesNotImplyExecute", p: Principal{Subject: "m", Roles: []string{"finance_manager"}}, action: execute, tool: "erp.create_payment"},
		{name: "OKFinanceManagerApproves", p: Principal{Subject: "m", Roles: []string{"finance_manager"}}, action: approve, tool: "erp.create_payment", want: true},
		{name: "ErrUnknownAction", p: hrManager, action: "delete", tool: "hr.get_employee"},

		{name: "OKScopeAllowsTool", p: with(hrManager, "openid", "tools:hr.get_employee"), action: execute, tool: "hr.get_employee", want: true},
		{name: "ErrScopeNarrowsRole", p: with(hrManager, "openid", "tools:hr.get_employee"), action: execute, tool: "hr.search_employees"},
		{name: "OKScopeGlob", p: with(hrManager, "tools:hr.*"), action: approve, tool: "hr.update_salary", want: true},
		{name: "OKOneOfSeveralScopes", p: with(clerk, "tools:hr.*", "tools:erp.get_invoice"), action: execute, tool: "erp.get_invoice", want: true},
		{name: "ErrScopeNeverWidens", p: with(employee, "tools:hr.*"), action: execute, tool: "hr.update_salary"},
		{name: "ErrScopeNarrowsAdmin", p: with(admin, "tools:hr.*"), action: execute, tool: "erp.get_invoice"},
		{name: "OKOtherScopesIgnored", p: with(employee, "openid", "profile"), action: execute, tool: "hr.get_employee", want: true},
		{name: "ErrMalformedScopeFailsClosed", p: with(admin, "tools:hr.[", "openid"), action: execute, tool: "hr.get_employee"},

		{name: "ErrNotAToolName", p: admin, action: execute, tool: "get_employee"},
		{name: "ErrEmptyTool", p: admin, action: execute, tool: ""},
		{name: "ErrGlobAsToolName", p: admin, action: execute, tool: "hr.*"},
		{name: "ErrGlobAsAction", p: hrManager, action: "*", tool: "hr.get_employee"},
		{name: "ErrAuditIsNotATool", p: auditor, action: "read", tool: auditObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.Can(tt.p, tt.action, tt.tool)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCanReadAudit(t *testing.T) {
	e := newTestEnforcer(t)
	tests := []struct {
		name  string
		roles []string
		want  bool
	}{
		{name: "OKAuditor", roles: []string{"employee", "auditor"}, want: true},
		{name: "OKAdmin", roles: []string{"admin"}, want: true},
		{name: "ErrManager", roles: []string{"hr_manager", "employee"}},
		{name: "ErrNoRoles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.CanReadAudit(Principal{Subject: "x", Roles: tt.roles})
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCanReadAllUsage(t *testing.T) {
	e := newTestEnforcer(t)
	tests := []struct {
		name  string
		roles []string
		want  bool
	}{
		{name: "OKAdmin", roles: []string{"employee", "admin"}, want: true},
		{name: "ErrAuditor", roles: []string{"auditor"}},
		{name: "ErrOperator", roles: []string{"operator"}},
		{name: "ErrNoRoles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, e.CanReadAllUsage(Principal{Subject: "x", Roles: tt.roles}))
		})
	}
}

func TestCanDecodePayloads(t *testing.T) {
	e := newTestEnforcer(t)
	tests := []struct {
		name          string
		roles         []string
		decode, clear bool
	}{
		{name: "OKOperatorMasked", roles: []string{"operator", "employee"}, decode: true},
		{name: "OKAdminClear", roles: []string{"admin"}, decode: true, clear: true},
		{name: "ErrAuditor", roles: []string{"auditor"}},
		{name: "ErrManagerWithToolReadSensitive", roles: []string{"hr_manager"}},
		{name: "ErrNoRoles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Principal{Subject: "x", Roles: tt.roles}
			require.Equal(t, tt.decode, e.CanDecodePayloads(p))
			require.Equal(t, tt.clear, e.CanReadSensitivePayloads(p))
		})
	}
	t.Run("ErrPayloadsAreNotATool", func(t *testing.T) {
		require.False(t, e.Can(Principal{Subject: "o", Roles: []string{"operator"}}, payloadsDecode, payloadsObject))
	})
	t.Run("ErrDomainCannotGrantDecode", func(t *testing.T) {
		require.Error(t, e.SetDomainPolicies("hr", []domains.Permission{{Role: "employee", Tools: []string{payloadsObject}, Actions: []string{domains.ActionReadSensitive}}}))
	})
}

func TestApprovers(t *testing.T) {
	e := newTestEnforcer(t)
	require.Equal(t, []string{"admin", "hr_manager"}, e.Approvers("hr.update_salary"))
	require.Equal(t, []string{"admin", "finance_manager"}, e.Approvers("erp.create_payment"))
	require.Equal(t, []string{"admin"}, e.Approvers("devops.restart_service"))
	require.Nil(t, e.Approvers("not a tool"))
}

func TestSetDomainPolicies(t *testing.T) {
	tests := []struct {
		name   string
		domain string
		perms  []domains.Permission
	}{
		{name: "ErrOtherDomainsTools", domain: "hr", perms: []domains.Permission{{Role: "employee", Tools: []string{"erp.*"}}}},
		{name: "ErrEverything", domain: "hr", perms: []domains.Permission{{Role: "employee", Tools: []string{"*"}}}},
		{name: "ErrPrefixWithoutDot", domain: "hr", perms: []domains.Permission{{Role: "employee", Tools: []string{"hr*"}}}},
		{name: "ErrLookalikeDomain", domain: "hr", perms: []domains.Permission{{Role: "employee", Tools: []string{"hrx.get_employee"}}}},
		{name: "ErrGlobSyntax", domain: "hr", perms: []domains.Permission{{Role: "employee", Tools: []string{"hr.{a,b}"}}}},
		{name: "ErrNoTools", domain: "hr", perms: []domains.Permission{{Role: "employee"}}},
		{name: "ErrBadRole", domain: "hr", perms: []domains.Permission{{Role: "*", Tools: []string{"hr.*"}}}},
		{name: "ErrBadAction", domain: "hr", perms: []domains.Permission{{Role: "employee", Tools: []string{"hr.*"}, Actions: []string{"*"}}}},
		{name: "ErrBadDomainName", domain: "@platform", perms: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnforcer(t)
			err := e.SetDomainPolicies(tt.domain, tt.perms)
			require.Error(t, err)
			employee := Principal{Subject: "eve", Roles: []string{"employee"}}
			require.True(t, e.Can(employee, execute, "hr.get_employee"), "a rejected update leaves the old rules")
			require.False(t, e.Can(employee, execute, "erp.get_invoice"))
			require.True(t, e.Can(Principal{Subject: "root", Roles: []string{"admin"}}, execute, "erp.get_invoice"), "platform rules stay")
		})
	}

	t.Run("OKReplacingRemovesOldGrants", func(t *testing.T) {
		e := newTestEnforcer(t)
		employee := Principal{Subject: "eve", Roles: []string{"employee"}}
		require.NoError(t, e.SetDomainPolicies("hr", []domains.Permission{
			{Role: "employee", Tools: []string{"hr.search_employees"}},
		}))
		require.False(t, e.Can(employee, execute, "hr.get_employee"))
		require.True(t, e.Can(employee, execute, "hr.search_employees"))
		require.False(t, e.Can(Principal{Subject: "alice", Roles: []string{"hr_manager"}}, execute, "hr.get_employee"))
		require.True(t, e.Can(Principal{Subject: "bob", Roles: []string{"finance_clerk"}}, execute, "erp.get_invoice"), "other domains keep their rules")
		require.Equal(t, []string{"admin"}, e.Approvers("hr.update_salary"))
	})
	t.Run("OKDefaultActionIsExecute", func(t *testing.T) {
		e := newTestEnforcer(t)
		sre := Principal{Subject: "carol", Roles: []string{"sre"}}
		require.NoError(t, e.SetDomainPolicies("devops", []domains.Permission{{Role: "sre", Tools: []string{"devops.*"}}}))
		require.True(t, e.Can(sre, execute, "devops.list_pods"))
		require.False(t, e.Can(sre, approve, "devops.list_pods"))
	})
	t.Run("OKRemoveDomain", func(t *testing.T) {
		e := newTestEnforcer(t)
		e.RemoveDomain("hr")
		e.RemoveDomain("@platform")
		require.False(t, e.Can(Principal{Subject: "alice", Roles: []string{"hr_manager"}}, execute, "hr.get_employee"))
		require.True(t, e.Can(Principal{Subject: "bob", Roles: []string{"finance_clerk"}}, execute, "erp.get_invoice"))
		require.True(t, e.Can(Principal{Subject: "root", Roles: []string{"admin"}}, execute, "hr.get_employee"))
		require.True(t, e.CanReadAudit(Principal{Subject: "audrey", Roles: []string{"auditor"}}))
	})
}

// TestCanDuringReplacement reads while a domain's rules flip between two sets that both grant
// the principal the tool (through different roles). A replacement seen half-done would deny.
func TestCanDuringReplacement(t *testing.T) {
	e := newTestEnforcer(t)
	viaManager := []domains.Permission{{Role: "hr_manager", Tools: []string{"hr.get_employee"}}}
	viaEmployee := []domains.Permission{{Role: "employee", Tools: []string{"hr.*"}, Actions: []string{execute, approve}}}
	p := Principal{Subject: "alice", Roles: []string{"hr_manager", "employee"}}

	const readers, rounds = 4, 300
	var wg sync.WaitGroup
	var denied atomic.Int32
	for range readers {
		wg.Go(func() {
			for range rounds {
				if !e.Can(p, execute, "hr.get_employee") {
					denied.Add(1)
				}
				_ = e.Approvers("hr.get_employee")
				_ = e.CanReadAudit(p)
			}
		})
	}
	var setErr error
	wg.Go(func() {
		for i := range rounds {
			perms := viaManager
			if i%2 == 1 {
				perms = viaEmployee
			}
			if err := e.SetDomainPolicies("hr", perms); err != nil && setErr == nil {
				setErr = err
			}
			e.RemoveDomain("erp")
		}
	})
	wg.Wait()
	require.NoError(t, setErr)
	require.Zero(t, denied.Load(), "Can denied while a replacement was half done")
}

// TestAllowedAgreesWithCan holds the batch decision to Casbin's, for every action, tool and
// principal shape (several roles, admin, unknown roles, tool scopes, names that are no tools).
func TestAllowedAgreesWithCan(t *testing.T) {
	e := newTestEnforcer(t)
	tools := []string{"hr.get_employee", "hr.search_employees", "hr.update_salary", "erp.get_invoice",
		"erp.create_payment", "erp.approve_invoice", "devops.scale", "@audit", "hr", "", "hr.*", "x.y.z"}
	principals := []Principal{
		{Subject: "alice", Roles: []string{"hr_manager", "employee"}},
		{Subject: "eve", Roles: []string{"employee"}},
		{Subject: "bob", Roles: []string{"finance_clerk", "", "employee"}},
		{Subject: "fiona", Roles: []string{"finance_manager"}},
		{Subject: "root", Roles: []string{"admin"}},
		{Subject: "root", Roles: []string{"admin"}, Scopes: []string{"openid", "tools:erp.*"}},
		{Subject: "alice", Roles: []string{"hr_manager"}, Scopes: []string{"tools:hr.get_employee"}},
		{Subject: "nobody", Roles: []string{"stranger"}},
		{Subject: "none"},
	}
	for _, action := range []string{execute, approve, domains.ActionReadSensitive, "*", "read"} {
		for _, p := range principals {
			got := e.Allowed(p, action, tools)
			for i, tool := range tools {
				require.Equal(t, e.Can(p, action, tool), got[i], "%v %s %s", p, action, tool)
			}
		}
	}
	require.Contains(t, e.Allowed(principals[0], execute, tools), true)
}

func TestGeneration(t *testing.T) {
	e := newTestEnforcer(t)
	g := e.Generation()
	require.NoError(t, e.SetDomainPolicies("hr", nil))
	require.Greater(t, e.Generation(), g)
	g = e.Generation()
	e.RemoveDomain("erp")
	require.Greater(t, e.Generation(), g)
}
