package hr_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/domains/hr"
	"mcp-platform/internal/llm/mock"
	"mcp-platform/internal/llm/mock/mocktest"
)

func TestMockDemo(t *testing.T) {
	demo := hr.MockDemo()
	p := mock.New(demo)
	employee := func(id string) mocktest.Call {
		return mocktest.Call{Tool: "hr.get_employee", Args: map[string]any{"employee_id": id}}
	}
	mocktest.Run(t, []mocktest.Case{
		{Name: "OK get employee", Text: "Get employee E001", Want: []mocktest.Call{employee("E001")}},
		{Name: "OK who is an ID", Text: "who is E001?", Want: []mocktest.Call{employee("E001")}},
		{Name: "OK lower-case ID", Text: "show me employee e012", Want: []mocktest.Call{employee("E012")}},
		{Name: "OK who works in a department", Text: "Who works in engineering?", Want: mocktest.Want("hr.search_employees", map[string]any{"department": "Engineering"})},
		{Name: "OK search with department", Text: "search employees in the sales department", Want: mocktest.Want("hr.search_employees", map[string]any{"department": "Sales"})},
		{Name: "OK search with query and department", Text: "search employees named Smith in department Finance",
			Want: mocktest.Want("hr.search_employees", map[string]any{"query": "Smith", "department": "Finance"})},
		{Name: "OK find a name", Text: "find Johnson", Want: mocktest.Want("hr.search_employees", map[string]any{"query": "Johnson"})},
		{Name: "OK list departments", Text: "List departments", Want: mocktest.Want("hr.list_departments", map[string]any{})},
		{Name: "OK show a department", Text: "show the Engineering department",
			Want: mocktest.Want("hr.get_department", map[string]any{"department": "Engineering"})},
		{Name: "OK manager", Text: "Who is E005's manager?", Want: mocktest.Want("hr.get_manager", map[string]any{"employee_id": "E005"})},
		{Name: "OK reports", Text: "who reports to E002", Want: mocktest.Want("hr.list_reports", map[string]any{"employee_id": "E002"})},
		{Name: "OK a named person's manager is found by name", Text: "Michael Chen's manager?",
			Want: mocktest.Want("hr.search_employees", map[string]any{"query": "Michael Chen"})},
		{Name: "OK who is a named person's manager", Text: "Who is Michael Chen's manager?",
			Want: mocktest.Want("hr.search_employees", map[string]any{"query": "Michael Chen"})},
		{Name: "OK a named person's email", Text: "What's Priya Patel's email?",
			Want: mocktest.Want("hr.search_employees", map[string]any{"query": "Priya Patel"})},
		{Name: "OK a name with an apostrophe", Text: "show Sean O'Brien's title",
			Want: mocktest.Want("hr.search_employees", map[string]any{"query": "Sean O'Brien"})},
		{Name: "OK two employees", Text: "get employees E001 and E002", Want: []mocktest.Call{employee("E001"), employee("E002")}},
	}, demo)

	t.Run("OK a manager question does not fall back to another tool", func(t *testing.T) {
		resp := mocktest.Ask(t, p, "who is E005's manager", "hr.get_employee")
		require.Empty(t, resp.ToolCalls)
		require.Contains(t, resp.Content, "hr.get_manager")
	})

	t.Run("OK a manager answer is headed by the employee", func(t *testing.T) {
		got := mocktest.Answer(t, p, "Who is E005's manager?", "hr.get_manager",
			`{"employee_id":"E005","employee_name":"Lisa Wong","manager":{"id":"E002","name":"Mike Chen","title":"VP Engineering"}}`)
		require.Equal(t, "**Lisa Wong** (E005)\n\n- Manager: Mike Chen (E002), VP Engineering", got)
	})

	mocktest.CheckExamples(t, demo)
}
