package hr

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"mcp-platform/domains"
	"mcp-platform/domains/kit"
)

// EmployeeSummary is an employee as listed by search, department and reporting-line tools. It
// leaves out the salary: only hr.get_employee returns it.
type EmployeeSummary struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Title        string  `json:"title"`
	Email        string  `json:"email"`
	DepartmentID string  `json:"department_id"`
	Department   string  `json:"department"`
	ManagerID    *string `json:"manager_id"`
	Location     string  `json:"location"`
	Status       string  `json:"status"`
}

// Employee is the full record returned by hr.get_employee. Salary is a sensitive field: the
// platform redacts it for roles without read_sensitive on hr.
type Employee struct {
	EmployeeSummary
	FirstName     string  `json:"first_name"`
	LastName      string  `json:"last_name"`
	ManagerName   *string `json:"manager_name"`
	HireDate      string  `json:"hire_date"`
	DirectReports int     `json:"direct_reports"`
	Salary        float64 `json:"salary"`
	Currency      string  `json:"currency"`
}

// EmployeeRef names an employee in another record (a department's head).
type EmployeeRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Title string `json:"title"`
}

// Department is a department with its head and headcount, as listed by hr.list_departments.
type Department struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Location    string       `json:"location"`
	Head        *EmployeeRef `json:"head"`
	Headcount   int          `json:"headcount"`
}

// DepartmentDetail is hr.get_department's result: the department and its members.
type DepartmentDetail struct {
	Department
	Members []EmployeeSummary `json:"members"`
}

// DepartmentList is hr.list_departments' result.
type DepartmentList struct {
	Departments []Department `json:"departments"`
	Count       int          `json:"count"`
}

// EmployeeList is hr.search_employees' result: Count employees returned, out of TotalMatches.
type EmployeeList struct {
	Employees    []EmployeeSummary `json:"employees"`
	Count        int               `json:"count"`
	TotalMatches int               `json:"total_matches"`
}

// ManagerResult is hr.get_manager's result; Manager is nil for the head of the organisation.
type ManagerResult struct {
	EmployeeID   string           `json:"employee_id"`
	EmployeeName string           `json:"employee_name"`
	Manager      *EmployeeSummary `json:"manager"`
}

// ReportsResult is hr.list_reports' result: the employee's direct reports.
type ReportsResult struct {
	EmployeeID   string            `json:"employee_id"`
	EmployeeName string            `json:"employee_name"`
	Reports      []EmployeeSummary `json:"reports"`
	Count        int               `json:"count"`
}

// summaryColumns select an EmployeeSummary from hr.employees e joined to hr.departments d.
const summaryColumns = `e.id, e.first_name || ' ' || e.last_name, e.title, e.email, e.department_id, d.name,
	e.manager_id, e.location, e.status`

const summaryFrom = ` FROM hr.employees e JOIN hr.departments d ON d.id = e.department_id`

func scanSummary(row pgx.CollectableRow) (EmployeeSummary, error) {
	var s EmployeeSummary
	err := row.Scan(&s.ID, &s.Name, &s.Title, &s.Email, &s.DepartmentID, &s.Department, &s.ManagerID, &s.Location, &s.Status)
	return s, err
}

// summaries runs a query selecting summaryColumns and collects the rows (never nil, so lists
// encode as [] rather than null).
func (a *Adapter) summaries(ctx context.Context, op, sql string, args ...any) ([]EmployeeSummary, error) {
	rows, err := a.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, dbError(op, err)
	}
	out, err := pgx.CollectRows(rows, scanSummary)
	if err != nil {
		return nil, dbError(op, err)
	}
	if out == nil {
		out = []EmployeeSummary{}
	}
	return out, nil
}

// summary returns one employee, or CodeNotFound.
func (a *Adapter) summary(ctx context.Context, id string) (*EmployeeSummary, error) {
	rows, err := a.summaries(ctx, "looking up an employee", `SELECT `+summaryColumns+summaryFrom+` WHERE e.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, domains.Errorf(domains.CodeNotFound, "no employee with id %q", id)
	}
	return &rows[0], nil
}

// getEmployee serves hr.get_employee.
func (a *Adapter) getEmployee(ctx context.Context, call domains.Call) (any, error) {
	id, err := employeeIDArg(call.Args)
	if err != nil {
		return nil, err
	}
	var e Employee
	s := &e.EmployeeSummary
	var salaryCents int64
	err = a.pool.QueryRow(ctx, `SELECT `+summaryColumns+`, e.first_name, e.last_name,
			m.first_name || ' ' || m.last_name, to_char(e.hire_date, 'YYYY-MM-DD'),
			(SELECT count(*) FROM hr.employees r WHERE r.manager_id = e.id),
			(e.salary * 100)::bigint, e.currency`+summaryFrom+`
		LEFT JOIN hr.employees m ON m.id = e.manager_id
		WHERE e.id = $1`, id).
		Scan(&s.ID, &s.Name, &s.Title, &s.Email, &s.DepartmentID, &s.Department, &s.ManagerID, &s.Location, &s.Status,
			&e.FirstName, &e.LastName, &e.ManagerName, &e.HireDate, &e.DirectReports, &salaryCents, &e.Currency)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domains.Errorf(domains.CodeNotFound, "no employee with id %q", id)
	}
	if err != nil {
		return nil, dbError("looking up an employee", err)
	}
	e.Salary = float64(salaryCents) / 100
	return &e, nil
}

// searchEmployees serves hr.search_employees.
func (a *Adapter) searchEmployees(ctx context.Context, call domains.Call) (any, error) {
	dept, err := kit.StringArg(call.Args, "department", false)
	if err != nil {
		return nil, err
	}
	query, err := kit.StringArg(call.Args, "query", false)
	if err != nil {
		return nil, err
	}
	limit, err := kit.IntArg(call.Args, "limit", 20, 1, 100)
	if err != nil {
		return nil, err
	}
	deptID := ""
	if dept != "" {
		d, err := a.department(ctx, dept)
		if err != nil {
			return nil, err
		}
		deptID = d.ID
	}
	pattern := ""
	if query != "" {
		pattern = likePattern(query)
	}
	rows, err := a.pool.Query(ctx, `SELECT `+summaryColumns+`, count(*) OVER ()`+summaryFrom+`
		WHERE ($1 = '' OR e.department_id = $1)
		  AND ($2 = '' OR e.first_name || ' ' || e.last_name ILIKE $2 OR e.title ILIKE $2 OR e.email ILIKE $2)
		ORDER BY e.id
		LIMIT $3`, deptID, pattern, limit)
	if err != nil {
		return nil, dbError("searching employees", err)
	}
	out := EmployeeList{Employees: []EmployeeSummary{}}
	for rows.Next() {
		var e EmployeeSummary
		if err := rows.Scan(&e.ID, &e.Name, &e.Title, &e.Email, &e.DepartmentID, &e.Department, &e.ManagerID, &e.Location, &e.Status,
			&out.TotalMatches); err != nil {
			rows.Close()
			return nil, dbError("searching employees", err)
		}
		out.Employees = append(out.Employees, e)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("searching employees", err)
	}
	out.Count = len(out.Employees)
	return &out, nil
}

// department resolves a department by id ("ENG") or name ("Engineering"), case-insensitively.
func (a *Adapter) department(ctx context.Context, key string) (*Department, error) {
	deps, err := a.departments(ctx, `WHERE upper(d.id) = upper($1) OR lower(d.name) = lower($1)`, key)
	if err != nil {
		return nil, err
	}
	if len(deps) == 0 {
		return nil, domains.Errorf(domains.CodeNotFound, "no department with id or name %q (see hr.list_departments)", key)
	}
	return &deps[0], nil
}

// departments lists departments matching where, with their heads and headcounts.
func (a *Adapter) departments(ctx context.Context, where string, args ...any) ([]Department, error) {
	rows, err := a.pool.Query(ctx, `SELECT d.id, d.name, d.description, d.location,
			h.id, h.first_name || ' ' || h.last_name, h.title,
			(SELECT count(*) FROM hr.employees e WHERE e.department_id = d.id)
		FROM hr.departments d
		LEFT JOIN hr.employees h ON h.id = d.head_id
		`+where+`
		ORDER BY d.name`, args...)
	if err != nil {
		return nil, dbError("listing departments", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Department, error) {
		var d Department
		var headID, headName, headTitle *string
		if err := row.Scan(&d.ID, &d.Name, &d.Description, &d.Location, &headID, &headName, &headTitle, &d.Headcount); err != nil {
			return d, err
		}
		if headID != nil {
			d.Head = &EmployeeRef{ID: *headID, Name: *headName, Title: *headTitle}
		}
		return d, nil
	})
	if err != nil {
		return nil, dbError("listing departments", err)
	}
	if out == nil {
		out = []Department{}
	}
	return out, nil
}

// listDepartments serves hr.list_departments.
func (a *Adapter) listDepartments(ctx context.Context, _ domains.Call) (any, error) {
	deps, err := a.departments(ctx, "")
	if err != nil {
		return nil, err
	}
	return &DepartmentList{Departments: deps, Count: len(deps)}, nil
}

// getDepartment serves hr.get_department.
func (a *Adapter) getDepartment(ctx context.Context, call domains.Call) (any, error) {
	key, err := kit.StringArg(call.Args, "department", true)
	if err != nil {
		return nil, err
	}
	d, err := a.department(ctx, key)
	if err != nil {
		return nil, err
	}
	members, err := a.summaries(ctx, "listing department members",
		`SELECT `+summaryColumns+summaryFrom+` WHERE e.department_id = $1 ORDER BY e.id`, d.ID)
	if err != nil {
		return nil, err
	}
	return &DepartmentDetail{Department: *d, Members: members}, nil
}

// getManager serves hr.get_manager.
func (a *Adapter) getManager(ctx context.Context, call domains.Call) (any, error) {
	id, err := employeeIDArg(call.Args)
	if err != nil {
		return nil, err
	}
	e, err := a.summary(ctx, id)
	if err != nil {
		return nil, err
	}
	res := &ManagerResult{EmployeeID: e.ID, EmployeeName: e.Name}
	if e.ManagerID != nil {
		if res.Manager, err = a.summary(ctx, *e.ManagerID); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// listReports serves hr.list_reports.
func (a *Adapter) listReports(ctx context.Context, call domains.Call) (any, error) {
	id, err := employeeIDArg(call.Args)
	if err != nil {
		return nil, err
	}
	e, err := a.summary(ctx, id)
	if err != nil {
		return nil, err
	}
	reports, err := a.summaries(ctx, "listing direct reports",
		`SELECT `+summaryColumns+summaryFrom+` WHERE e.manager_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, err
	}
	return &ReportsResult{EmployeeID: e.ID, EmployeeName: e.Name, Reports: reports, Count: len(reports)}, nil
}
