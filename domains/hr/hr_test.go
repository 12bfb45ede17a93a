package hr_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains"
	"mcp-platform/domains/domaintest"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/policy"
)

const configDir = "../../config/domains"

// domain is the HR domain as the shared domain tests see it.
var domain = domaintest.Domain{Name: "hr", ConfigDir: configDir, Role: hr.DBRole, New: hr.New}

// newAdapter migrates a fresh database and builds the HR adapter on a pool running as
// hr.DBRole, with the repository's configuration.
func newAdapter(tb testing.TB) domains.Adapter {
	tb.Helper()
	a, _ := domain.Adapter(tb)
	return a
}

func call(tb testing.TB, a domains.Adapter, tool string, args map[string]any) (any, error) {
	tb.Helper()
	return a.Call(context.Background(), domains.Call{Tool: tool, Args: args, IdempotencyKey: "test", Subject: "tester"})
}

func ids(es []hr.EmployeeSummary) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestIsolation(t *testing.T) {
	ctx := context.Background()
	pool := domain.Pool(t)

	t.Run("OK reads its own schema", func(t *testing.T) {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM hr.employees`).Scan(&n))
		require.Equal(t, 40, n)
	})

	domaintest.CheckDenied(t, pool, map[string]string{
		"ErrOtherDomainsData":   `SELECT count(*) FROM erp.invoices`,
		"ErrOtherDomainsTables": `SELECT count(*) FROM erp.customers`,
		"ErrPlatformAuditLog":   `SELECT count(*) FROM public.audit_log`,
		"ErrPlatformRegistry":   `SELECT count(*) FROM public.tools`,
		"ErrWriteOwnSchema":     `UPDATE hr.employees SET salary = salary * 2 WHERE id = 'E040'`,
		"ErrDeleteOwnSchema":    `DELETE FROM hr.employees WHERE id = 'E040'`,
		"ErrCreateInOwnSchema":  `CREATE TABLE hr.backdoor (x int)`,
	})

	t.Run("OK every connection runs as the role", func(t *testing.T) {
		var role string
		require.NoError(t, pool.QueryRow(ctx, `SELECT current_user`).Scan(&role))
		require.Equal(t, hr.DBRole, role)
	})
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	pool := domain.Pool(t)

	t.Run("OK ids are E001 to E040", func(t *testing.T) {
		var n int
		var lo, hi string
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), min(id), max(id) FROM hr.employees`).Scan(&n, &lo, &hi))
		require.Equal(t, 40, n)
		require.Equal(t, "E001", lo)
		require.Equal(t, "E040", hi)
	})

	t.Run("OK everyone reports up to the CEO", func(t *testing.T) {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `
			WITH RECURSIVE chain AS (
				SELECT id, manager_id, 0 AS depth FROM hr.employees
				UNION ALL
				SELECT c.id, e.manager_id, c.depth + 1 FROM chain c JOIN hr.employees e ON e.id = c.manager_id
				WHERE c.depth < 10
			)
			SELECT count(DISTINCT id) FROM chain WHERE manager_id IS NULL`).Scan(&n))
		require.Equal(t, 40, n, "every employee's chain of managers ends at the CEO")
	})

	t.Run("OK heads belong to their departments", func(t *testing.T) {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `
			SELECT count(*) FROM hr.departments d JOIN hr.employees h ON h.id = d.head_id
			WHERE h.department_id = d.id`).Scan(&n))
		require.Equal(t, 6, n)
	})
}

func TestGetEmployee(t *testing.T) {
	a := newAdapter(t)

	t.Run("OK CEO", func(t *testing.T) {
		res, err := call(t, a, "hr.get_employee", map[string]any{"employee_id": "E001"})
		require.NoError(t, err)
		e := res.(*hr.Employee)
		require.Equal(t, "Sarah Johnson", e.Name)
		require.Equal(t, "Chief Executive Officer", e.Title)
		require.Equal(t, "sarah.johnson@acme.example", e.Email)
		require.Equal(t, "OPS", e.DepartmentID)
		require.Equal(t, "Operations", e.Department)
		require.Nil(t, e.ManagerID)
		require.Nil(t, e.ManagerName)
		require.Equal(t, "2014-03-03", e.HireDate)
		require.Equal(t, 7, e.DirectReports)
		require.Equal(t, 320000.0, e.Salary)
		require.Equal(t, "USD", e.Currency)
	})

	t.Run("OK lower-case id with manager", func(t *testing.T) {
		res, err := call(t, a, "hr.get_employee", map[string]any{"employee_id": "e014"})
		require.NoError(t, err)
		e := res.(*hr.Employee)
		require.Equal(t, "E014", e.ID)
		require.Equal(t, "Grace Liu", e.Name)
		require.Equal(t, "Grace", e.FirstName)
		require.Equal(t, "Liu", e.LastName)
		require.Equal(t, "Engineering", e.Department)
		require.Equal(t, "E008", *e.ManagerID)
		require.Equal(t, "Daniel Novak", *e.ManagerName)
		require.Zero(t, e.DirectReports)
		require.Equal(t, 142000.0, e.Salary)
	})

	errs := []struct {
		name string
		args map[string]any
		code domains.ErrorCode
		msg  string
	}{
		{"ErrNotFound", map[string]any{"employee_id": "E999"}, domains.CodeNotFound, `no employee with id "E999"`},
		{"ErrMissingID", map[string]any{}, domains.CodeInvalid, "employee_id is required"},
		{"ErrNotAString", map[string]any{"employee_id": 1}, domains.CodeInvalid, "employee_id must be a string"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call(t, a, "hr.get_employee", tc.args)
			domaintest.RequireCode(t, err, tc.code)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestSearchEmployees(t *testing.T) {
	a := newAdapter(t)

	ok := []struct {
		name      string
		args      map[string]any
		wantIDs   []string
		wantTotal int
	}{
		{"OK title in every department", map[string]any{"query": "engineer"},
			[]string{"E007", "E008", "E009", "E010", "E011", "E012", "E013", "E014", "E015", "E016", "E017", "E024"}, 12},
		{"OK title in one department by name", map[string]any{"query": "Engineer", "department": "sales"},
			[]string{"E024"}, 1},
		{"OK department by id without query", map[string]any{"department": "FIN"},
			[]string{"E004", "E025", "E026", "E027", "E028"}, 5},
		{"OK name case-insensitively", map[string]any{"query": "JOHNSON"}, []string{"E001"}, 1},
		{"OK full name", map[string]any{"query": "grace liu"}, []string{"E014"}, 1},
		{"OK email", map[string]any{"query": "lily.evans@"}, []string{"E040"}, 1},
		{"OK limit keeps the total", map[string]any{"limit": 3}, []string{"E001", "E002", "E003"}, 40},
		{"OK float limit from JSON", map[string]any{"limit": 2.0, "department": "Marketing"}, []string{"E006", "E036"}, 6},
		{"OK no match", map[string]any{"query": "astronaut"}, []string{}, 0},
		{"OK wildcards are literal", map[string]any{"query": "%"}, []string{}, 0},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			res, err := call(t, a, "hr.search_employees", tc.args)
			require.NoError(t, err)
			l := res.(*hr.EmployeeList)
			require.Equal(t, tc.wantIDs, ids(l.Employees))
			require.Equal(t, len(tc.wantIDs), l.Count)
			require.Equal(t, tc.wantTotal, l.TotalMatches)
		})
	}

	t.Run("OK summaries carry department and manager", func(t *testing.T) {
		res, err := call(t, a, "hr.search_employees", map[string]any{"query": "Payroll"})
		require.NoError(t, err)
		l := res.(*hr.EmployeeList)
		require.Len(t, l.Employees, 1)
		e := l.Employees[0]
		require.Equal(t, "Nina Kowalski", e.Name)
		require.Equal(t, "HR", e.DepartmentID)
		require.Equal(t, "Human Resources", e.Department)
		require.Equal(t, "E029", *e.ManagerID)
	})

	errs := []struct {
		name string
		args map[string]any
		code domains.ErrorCode
	}{
		{"ErrUnknownDepartment", map[string]any{"department": "Legal"}, domains.CodeNotFound},
		{"ErrLimitZero", map[string]any{"limit": 0}, domains.CodeInvalid},
		{"ErrLimitFraction", map[string]any{"limit": 2.5}, domains.CodeInvalid},
		{"ErrLimitTooLarge", map[string]any{"limit": 1000}, domains.CodeInvalid},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call(t, a, "hr.search_employees", tc.args)
			domaintest.RequireCode(t, err, tc.code)
		})
	}
}

func TestDepartments(t *testing.T) {
	a := newAdapter(t)

	t.Run("OK list with heads and headcounts", func(t *testing.T) {
		res, err := call(t, a, "hr.list_departments", nil)
		require.NoError(t, err)
		l := res.(*hr.DepartmentList)
		require.Equal(t, 6, l.Count)
		got := map[string]string{}
		total := 0
		for _, d := range l.Departments {
			require.NotNil(t, d.Head, d.Name)
			got[d.Name] = d.Head.Name
			total += d.Headcount
		}
		require.Equal(t, map[string]string{
			"Engineering":     "Michael Chen",
			"Sales":           "Emily Rodriguez",
			"Finance":         "David Kim",
			"Human Resources": "Priya Patel",
			"Operations":      "Sarah Johnson",
			"Marketing":       "James Wilson",
		}, got)
		require.Equal(t, 40, total)
	})

	ok := []struct {
		name, key, wantID, wantHead string
		wantHeadcount               int
	}{
		{"OK by id", "ENG", "ENG", "E002", 12},
		{"OK by name", "Engineering", "ENG", "E002", 12},
		{"OK by name case-insensitively", "human resources", "HR", "E005", 4},
		{"OK by lower-case id", "mkt", "MKT", "E006", 6},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			res, err := call(t, a, "hr.get_department", map[string]any{"department": tc.key})
			require.NoError(t, err)
			d := res.(*hr.DepartmentDetail)
			require.Equal(t, tc.wantID, d.ID)
			require.Equal(t, tc.wantHead, d.Head.ID)
			require.Equal(t, tc.wantHeadcount, d.Headcount)
			require.Len(t, d.Members, tc.wantHeadcount)
			for _, m := range d.Members {
				require.Equal(t, tc.wantID, m.DepartmentID)
			}
		})
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := call(t, a, "hr.get_department", map[string]any{"department": "Legal"})
		domaintest.RequireCode(t, err, domains.CodeNotFound)
		require.Contains(t, err.Error(), `"Legal"`)
	})
	t.Run("ErrMissingDepartment", func(t *testing.T) {
		_, err := call(t, a, "hr.get_department", map[string]any{"department": "  "})
		domaintest.RequireCode(t, err, domains.CodeInvalid)
	})
}

func TestReportingLines(t *testing.T) {
	a := newAdapter(t)

	managers := []struct {
		name, id, wantManager, wantManagerName string
	}{
		{"OK engineer", "E014", "E008", "Daniel Novak"},
		{"OK department head reports to the CEO", "E004", "E001", "Sarah Johnson"},
		{"OK CEO has no manager", "E001", "", ""},
	}
	for _, tc := range managers {
		t.Run(tc.name, func(t *testing.T) {
			res, err := call(t, a, "hr.get_manager", map[string]any{"employee_id": tc.id})
			require.NoError(t, err)
			m := res.(*hr.ManagerResult)
			require.Equal(t, tc.id, m.EmployeeID)
			if tc.wantManager == "" {
				require.Nil(t, m.Manager)
				return
			}
			require.Equal(t, tc.wantManager, m.Manager.ID)
			require.Equal(t, tc.wantManagerName, m.Manager.Name)
		})
	}

	reports := []struct {
		name, id string
		want     []string
	}{
		{"OK CTO", "E002", []string{"E007", "E008", "E017"}},
		{"OK CEO", "E001", []string{"E002", "E003", "E004", "E005", "E006", "E032", "E035"}},
		{"OK individual contributor", "E040", []string{}},
	}
	for _, tc := range reports {
		t.Run(tc.name, func(t *testing.T) {
			res, err := call(t, a, "hr.list_reports", map[string]any{"employee_id": tc.id})
			require.NoError(t, err)
			r := res.(*hr.ReportsResult)
			require.Equal(t, tc.want, ids(r.Reports))
			require.Equal(t, len(tc.want), r.Count)
			for _, e := range r.Reports {
				require.Equal(t, tc.id, *e.ManagerID)
			}
		})
	}

	for _, tool := range []string{"hr.get_manager", "hr.list_reports"} {
		t.Run("ErrNotFound "+tool, func(t *testing.T) {
			_, err := call(t, a, tool, map[string]any{"employee_id": "E041"})
			domaintest.RequireCode(t, err, domains.CodeNotFound)
			require.Contains(t, err.Error(), `no employee with id "E041"`)
		})
	}
}

// TestConfig checks the repository's config/domains/hr.yaml against the adapter: the same
// tools, sample arguments valid for each input schema, and results valid for each output schema.
func TestConfig(t *testing.T) {
	cfg := domain.Config(t)
	a := newAdapter(t)

	t.Run("OK declares exactly the served tools", func(t *testing.T) {
		require.Equal(t, hr.Tools(), domaintest.DeclaredTools(cfg))
	})

	t.Run("OK salary is sensitive", func(t *testing.T) {
		require.Contains(t, cfg.Sensitive(cfg.Tool("hr.get_employee")), "salary")
		require.Contains(t, cfg.SensitiveFields, "salary")
	})

	t.Run("OK every tool is read-only and idempotent", func(t *testing.T) {
		for _, tool := range cfg.Tools {
			require.True(t, tool.Annotations.ReadOnly, tool.Name)
			require.True(t, tool.Annotations.Idempotent, tool.Name)
			require.False(t, tool.Annotations.Destructive, tool.Name)
			require.False(t, tool.Annotations.RequiresApproval, tool.Name)
		}
	})

	t.Run("OK required output fields are declared", func(t *testing.T) {
		domaintest.RequireOutputFieldsDeclared(t, cfg)
	})

	samples := map[string][]map[string]any{
		"hr.get_employee":     {{"employee_id": "E001"}, {"employee_id": "E014"}},
		"hr.search_employees": {{"query": "engineer", "department": "Engineering", "limit": 5}, {}},
		"hr.list_departments": {{}},
		"hr.get_department":   {{"department": "Sales"}},
		"hr.get_manager":      {{"employee_id": "E014"}, {"employee_id": "E001"}},
		"hr.list_reports":     {{"employee_id": "E002"}, {"employee_id": "E040"}},
	}
	domaintest.CheckOutputSchemas(t, cfg, a, samples)

	t.Run("ErrInputSchemaRejectsBadID", func(t *testing.T) {
		require.Error(t, policy.ValidateArgs(cfg.Tool("hr.get_employee"), map[string]any{"employee_id": "Sarah"}))
		require.Error(t, policy.ValidateArgs(cfg.Tool("hr.get_employee"), map[string]any{}))
	})
}

func TestNew(t *testing.T) {
	domain.CheckNew(t, "hr.fire_employee", "mcp_domain_erp")
}
