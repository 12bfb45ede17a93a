package redact_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/redact"
)

const m = redact.Mask

func TestValue(t *testing.T) {
	type address struct {
		City string `json:"city"`
	}
	type employee struct {
		ID        string  `json:"id"`
		Name      string  `json:"name"`
		Salary    int     `json:"salary"`
		BankIBAN  string  `json:"bankIban"`
		Address   address `json:"address"`
		Manager   *employee
		unexposed string
	}

	tests := []struct {
		name  string
		in    any
		extra []string
		want  any
	}{
		{
			name: "OK flat well-known names",
			in:   map[string]any{"user": "ann", "password": "hunter2", "token": "t0k", "ssn": "123-45-6789", "count": 3.0},
			want: map[string]any{"user": "ann", "password": m, "token": m, "ssn": m, "count": 3.0},
		},
		{
			name: "OK naming styles",
			in: map[string]any{
				"apiKey": "a", "api-key": "b", "API_KEY": "c", "api_key": "d", "APIKey": "e", "Api Key": "f",
				"apikey": "g", "ApiKEY": "h", "X-Api-Key": "i", "accessToken": "j", "IDToken": "k",
				"Authorization": "Bearer xyz", "clientSecret": "l", "creditCard": "m", "userSSN": "n",
			},
			want: map[string]any{
				"apiKey": m, "api-key": m, "API_KEY": m, "api_key": m, "APIKey": m, "Api Key": m,
				"apikey": m, "ApiKEY": m, "X-Api-Key": m, "accessToken": m, "IDToken": m,
				"Authorization": m, "clientSecret": m, "creditCard": m, "userSSN": m,
			},
		},
		{
			name: "OK suffix matches but longer words do not",
			in: map[string]any{
				"db_password": "p", "base_salary": 100.0, "dbPassword": "q", "next_page_token": "n",
				"max_tokens": 512.0, "total_tokens": 9.0, "salary_band": "B", "passwordless": true, "tokenizer": "bpe",
			},
			want: map[string]any{
				"db_password": m, "base_salary": m, "dbPassword": m, "next_page_token": m,
				"max_tokens": 512.0, "total_tokens": 9.0, "salary_band": "B", "passwordless": true, "tokenizer": "bpe",
			},
		},
		{
			name: "OK nested maps and slices",
			in: map[string]any{
				"employees": []any{
					map[string]any{"id": "E001", "salary": 5000.0, "bank": map[string]any{"iban": "DE89", "name": "X"}},
					map[string]any{"id": "E002", "salary": nil},
				},
				"meta":  map[string]any{"auth": map[string]any{"refresh_token": "r", "scope": "hr"}},
				"lists": []any{[]any{map[string]any{"cvv": "123"}}},
			},
			want: map[string]any{
				"employees": []any{
					map[string]any{"id": "E001", "salary": m, "bank": map[string]any{"iban": m, "name": "X"}},
					map[string]any{"id": "E002", "salary": nil},
				},
				"meta":  map[string]any{"auth": map[string]any{"refresh_token": m, "scope": "hr"}},
				"lists": []any{[]any{map[string]any{"cvv": m}}},
			},
		},
		{
			name: "OK sensitive value that is an object is masked whole",
			in:   map[string]any{"secret": map[string]any{"a": 1.0}, "cookie": []any{"x", "y"}},
			want: map[string]any{"secret": m, "cookie": m},
		},
		{
			name:  "OK extra names in any style and with suffix",
			in:    map[string]any{"phone": "555", "homePhone": "556", "dateOfBirth": "1990-01-01", "name": "Ann"},
			extra: []string{"phone", "date_of_birth"},
			want:  map[string]any{"phone": m, "homePhone": m, "dateOfBirth": m, "name": "Ann"},
		},
		{
			name: "OK extra dotted path masks only that nested field",
			in: map[string]any{
				"employee": map[string]any{"bonus": 10.0, "name": "Ann"},
				"company":  map[string]any{"bonus": 99.0},
				"bonus":    1.0,
				"data":     map[string]any{"employee": map[string]any{"bonus": 11.0}},
				"employees": []any{
					map[string]any{"bonus": 12.0},
				},
			},
			extra: []string{"employee.bonus", "employees[].bonus"},
			want: map[string]any{
				"employee":  map[string]any{"bonus": m, "name": "Ann"},
				"company":   map[string]any{"bonus": 99.0},
				"bonus":     1.0,
				"data":      map[string]any{"employee": map[string]any{"bonus": m}},
				"employees": []any{map[string]any{"bonus": m}},
			},
		},
		{
			name:  "OK dotted path wildcard and naming styles",
			in:    map[string]any{"byId": map[string]any{"E001": map[string]any{"HomeAddress": "x", "city": "y"}}},
			extra: []string{"by_id.*.home_address"},
			want:  map[string]any{"byId": map[string]any{"E001": map[string]any{"HomeAddress": m, "city": "y"}}},
		},
		{
			name: "OK struct through JSON names",
			in: employee{ID: "E001", Name: "Ann", Salary: 5000, BankIBAN: "DE89", Address: address{City: "Berlin"},
				Manager: &employee{ID: "E000", Salary: 9000}},
			extra: []string{"address.city"},
			want: map[string]any{
				"id": "E001", "name": "Ann", "salary": m, "bankIban": m, "address": map[string]any{"city": m},
				"Manager": map[string]any{
					"id": "E000", "name": "", "salary": m, "bankIban": m,
					"address": map[string]any{"city": m}, "Manager": nil,
				},
			},
		},
		{
			name: "OK typed maps and slices inside any",
			in: map[string]any{
				"headers": map[string]string{"Authorization": "Bearer abc", "Accept": "json"},
				"ids":     []int64{9007199254740993},
			},
			want: map[string]any{
				"headers": map[string]any{"Authorization": m, "Accept": "json"},
				"ids":     []any{json.Number("9007199254740993")},
			},
		},
		{
			name: "OK secrets in free text values",
			in:   map[string]any{"command": "psql postgres://app:s3cret@db/app", "note": "password=hunter2 please"},
			want: map[string]any{"command": "psql postgres://app:" + m + "@db/app", "note": "password=" + m + " please"},
		},
		{
			name: "OK scalars and nil",
			in:   []any{nil, true, 1.5, "plain"},
			want: []any{nil, true, 1.5, "plain"},
		},
		{
			name: "OK unencodable value is masked whole",
			in:   map[string]any{"fn": func() {}, "ok": "yes"},
			want: map[string]any{"fn": m, "ok": "yes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redact.Value(tt.in, tt.extra...)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestValueDoesNotMutateInput(t *testing.T) {
	in := map[string]any{
		"password": "hunter2",
		"nested":   map[string]any{"token": "t", "list": []any{map[string]any{"salary": 1.0}}},
	}
	got := redact.Value(in, "nested.list")
	require.Equal(t, map[string]any{"password": m, "nested": map[string]any{"token": m, "list": m}}, got)
	require.Equal(t, map[string]any{
		"password": "hunter2",
		"nested":   map[string]any{"token": "t", "list": []any{map[string]any{"salary": 1.0}}},
	}, in)

	// The copy is deep: changing it leaves the input alone.
	in2 := map[string]any{"a": map[string]any{"b": []any{"c"}}}
	got2 := redact.Value(in2).(map[string]any)
	got2["a"].(map[string]any)["b"].([]any)[0] = "changed"
	require.Equal(t, "c", in2["a"].(map[string]any)["b"].([]any)[0])
}
