package toolsearch_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/toolcall/toolsearch"
)

func names(docs []toolsearch.Document, hits []toolsearch.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = docs[h.Doc].Name
	}
	return out
}

func TestSearch(t *testing.T) {
	docs := []toolsearch.Document{
		{Name: "hr.get_employee", Text: "Get one employee's record by ID, salary included. hr Human resources."},
		{Name: "hr.list_employees", Text: "List the employees of a department. hr Human resources."},
		{Name: "erp.get_invoice", Text: "Show an invoice by number. erp Finance."},
		{Name: "erp.create_invoice", Text: "Create an invoice for a customer. erp Finance."},
		{Name: "devops.scale_deployment", Text: "Scale a deployment to a number of replicas. devops Kubernetes."},
	}
	ix := toolsearch.New(docs)

	t.Run("OK", func(t *testing.T) {
		got := names(docs, ix.Search("which invoices do we have?", 10))
		require.ElementsMatch(t, []string{"erp.get_invoice", "erp.create_invoice"}, got)
	})
	t.Run("InflectionsMatch", func(t *testing.T) {
		require.Equal(t, "erp.create_invoice", names(docs, ix.Search("creating invoices", 1))[0])
		require.Equal(t, "devops.scale_deployment", names(docs, ix.Search("scaling replica", 1))[0])
	})
	t.Run("RarerWordsWeighMore", func(t *testing.T) {
		// "employee" is in two tools, "salary" in one.
		require.Equal(t, "hr.get_employee", names(docs, ix.Search("employee salary", 1))[0])
	})
	t.Run("NameFirst", func(t *testing.T) {
		// Both mention employees; the one named in the query (either spelling) comes first.
		require.Equal(t, "hr.list_employees", names(docs, ix.Search("employee via hr__list_employees", 2))[0])
		require.Equal(t, "hr.list_employees", names(docs, ix.Search("use hr.list_employees for the employee", 2))[0])
	})
	t.Run("Limit", func(t *testing.T) {
		require.Len(t, ix.Search("hr erp devops", 2), 2)
		require.Empty(t, ix.Search("hr", 0))
	})
	t.Run("NoMatch", func(t *testing.T) {
		require.Empty(t, ix.Search("weather tomorrow", 5))
		require.Empty(t, ix.Search("", 5))
		require.Empty(t, ix.Search("the and of", 5))
		require.Empty(t, toolsearch.New(nil).Search("invoice", 5))
	})
}

func TestTerms(t *testing.T) {
	require.Equal(t, []string{"hr", "get", "employe"}, toolsearch.Terms("hr.get_employee"))
	require.Equal(t, []string{"list", "employe", "engineer"}, toolsearch.Terms("List the employees in Engineering"))
	require.Equal(t, []string{"creat", "creat", "creat", "creat"}, toolsearch.Terms("create created creates creating"))
}
