package gateway_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"mcp-platform/api/codecapi"
	"mcp-platform/api/gateway"
	"mcp-platform/domains/hr"
	"mcp-platform/domains/kit"
	"mcp-platform/internal/config"
	"mcp-platform/internal/redact"
	"mcp-platform/internal/temporalx"
	"mcp-platform/internal/testutil/temporaltest"
	"mcp-platform/platform/platformtest"
)

// uiOrigin is the Temporal UI's origin in platformtest (config.Default's TEMPORAL_UI_URL).
const uiOrigin = "http://localhost:8233"

// codecCall is one request of the Temporal UI's codec protocol.
type codecCall struct {
	token   string
	cookie  *http.Cookie
	origin  string
	noNS    bool
	payload []*commonpb.Payload
}

// codecDo POSTs payloads to base+/codec/<op> and returns the status, the headers and, on 200,
// the payloads of the answer (otherwise its text, as the only payload's data).
func codecDo(t *testing.T, base, op string, c codecCall) (int, http.Header, []*commonpb.Payload) {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: c.payload})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+codecapi.Prefix+"/"+op+"?preserveStorageRefs=true", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if !c.noNS {
		req.Header.Set("X-Namespace", "default")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, resp.Header, []*commonpb.Payload{{Data: raw}}
	}
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(raw, &out), string(raw))
	return resp.StatusCode, resp.Header, out.GetPayloads()
}

// employeeResult runs hr.get_employee for alice (who may read salaries) and returns the
// activity result as Temporal stores it, and the salary it holds.
func employeeResult(t *testing.T, s *platformtest.Stack) (*commonpb.Payload, float64) {
	t.Helper()
	code, _, body := platformtest.Do(t, s.MCP.URL, http.MethodPost, "/execute", s.DemoToken(t, "alice"),
		map[string]any{"tool": "hr.get_employee", "arguments": map[string]any{"employee_id": "E001"}})
	require.Equal(t, http.StatusOK, code, body)
	salary, ok := body["result"].(map[string]any)["salary"].(float64)
	require.True(t, ok, "alice reads the salary: %v", body)
	for _, e := range temporaltest.History(t, temporaltest.RawClient(t), body["workflow_id"].(string)) {
		if e.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED {
			p := e.GetActivityTaskCompletedEventAttributes().GetResult().GetPayloads()[0]
			require.Equal(t, temporalx.EncodingEncrypted, string(p.GetMetadata()[converter.MetadataEncoding]))
			return p, salary
		}
	}
	t.Fatal("no completed activity in the history")
	return nil, 0
}

// output is the tool output inside a decoded ExecuteTool result.
func output(t *testing.T, p *commonpb.Payload) map[string]any {
	t.Helper()
	require.Equal(t, converter.MetadataEncodingJSON, string(p.GetMetadata()[converter.MetadataEncoding]))
	var res map[string]any
	require.NoError(t, json.Unmarshal(p.GetData(), &res), string(p.GetData()))
	out, ok := res["output"].(map[string]any)
	require.True(t, ok, "ExecuteToolResult has an output: %s", p.GetData())
	return out
}

func TestCodecServer(t *testing.T) {
	s := platformtest.Start(t, platformtest.Options{Domains: map[string]kit.Factory{"hr": hr.New}})
	stored, salary := employeeResult(t, s)
	oscar, admin, alice := s.DemoToken(t, "oscar"), s.DemoToken(t, "admin"), s.DemoToken(t, "alice")
	in := []*commonpb.Payload{stored}

	t.Run("ErrAnonymous", func(t *testing.T) {
		code, h, _ := codecDo(t, s.API.URL, "decode", codecCall{payload: in})
		require.Equal(t, http.StatusUnauthorized, code)
		require.Contains(t, h.Get("WWW-Authenticate"), "Bearer")
		code, _, _ = codecDo(t, s.API.URL, "encode", codecCall{payload: in})
		require.Equal(t, http.StatusUnauthorized, code)
	})

	t.Run("ErrInvalidToken", func(t *testing.T) {
		code, _, _ := codecDo(t, s.API.URL, "decode", codecCall{token: "not-a-token", payload: in})
		require.Equal(t, http.StatusUnauthorized, code)
	})

	t.Run("ErrNotOperator", func(t *testing.T) {
		code, _, _ := codecDo(t, s.API.URL, "decode", codecCall{token: alice, payload: in})
		require.Equal(t, http.StatusForbidden, code, "alice may read salaries in results, not decode Temporal's payloads")
	})

	t.Run("OK operator without read_sensitive sees sensitive fields masked", func(t *testing.T) {
		code, _, got := codecDo(t, s.API.URL, "decode", codecCall{token: oscar, payload: in})
		require.Equal(t, http.StatusOK, code)
		require.Len(t, got, 1)
		out := output(t, got[0])
		require.Equal(t, redact.Mask, out["salary"])
		require.NotEmpty(t, out["name"], "the rest is readable")
	})

	t.Run("OK admin with read_sensitive sees them in clear", func(t *testing.T) {
		code, _, got := codecDo(t, s.API.URL, "decode", codecCall{token: admin, payload: in})
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, salary, output(t, got[0])["salary"])
	})

	t.Run("OK encode round trip", func(t *testing.T) {
		plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]any{"note": "hello", "password": "pw-123"})
		require.NoError(t, err)
		code, _, enc := codecDo(t, s.API.URL, "encode", codecCall{token: oscar, payload: []*commonpb.Payload{plain}})
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, temporalx.EncodingEncrypted, string(enc[0].GetMetadata()[converter.MetadataEncoding]))
		require.Equal(t, temporaltest.CodecKeyID, string(enc[0].GetMetadata()[temporalx.MetadataKeyID]))
		require.NotContains(t, string(enc[0].GetData()), "pw-123")

		var back map[string]any
		require.NoError(t, temporaltest.Codec(t).DataConverter().FromPayload(enc[0], &back), "workers read what the codec server encodes")
		require.Equal(t, "pw-123", back["password"])
		code, _, dec := codecDo(t, s.API.URL, "decode", codecCall{token: admin, payload: enc})
		require.Equal(t, http.StatusOK, code)
		require.JSONEq(t, string(plain.GetData()), string(dec[0].GetData()))
	})

	t.Run("ErrNotPayloads", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, s.API.URL+"/codec/decode", strings.NewReader(`{"payloads": 3}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})

	t.Run("OK CORS preflight from the Temporal UI", func(t *testing.T) {
		resp := preflight(t, s.API.URL, uiOrigin)
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
		require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
		require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")

		code, h, _ := codecDo(t, s.API.URL, "decode", codecCall{token: oscar, origin: uiOrigin, payload: in})
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, uiOrigin, h.Get("Access-Control-Allow-Origin"))
		code, h, _ = codecDo(t, s.API.URL, "decode", codecCall{origin: uiOrigin, payload: in})
		require.Equal(t, http.StatusUnauthorized, code)
		require.Equal(t, uiOrigin, h.Get("Access-Control-Allow-Origin"), "the UI can read the refusal")
	})

	t.Run("ErrOtherOrigin", func(t *testing.T) {
		resp := preflight(t, s.API.URL, "http://evil.example")
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

		code, h, _ := codecDo(t, s.API.URL, "decode", codecCall{token: admin, origin: "http://evil.example", payload: in})
		require.Equal(t, http.StatusForbidden, code)
		require.Empty(t, h.Get("Access-Control-Allow-Origin"))
	})

	t.Run("OK codec session cookie for the browser's Temporal UI", func(t *testing.T) {
		code, h, _ := platformtest.Do(t, s.API.URL, http.MethodPost, "/codec/session", oscar, nil)
		require.Equal(t, http.StatusNoContent, code)
		cookie := sessionCookie(t, h)
		require.True(t, cookie.HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
		require.Equal(t, "/codec", cookie.Path)

		code, _, got := codecDo(t, s.API.URL, "decode", codecCall{cookie: cookie, origin: uiOrigin, payload: in})
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, redact.Mask, output(t, got[0])["salary"], "the session is oscar's: masked")

		code, _, _ = codecDo(t, s.API.URL, "decode", codecCall{cookie: cookie, noNS: true, payload: in})
		require.Equal(t, http.StatusUnauthorized, code, "the cookie counts only with the UI's X-Namespace header")

		code, h, _ = platformtest.Do(t, s.API.URL, http.MethodDelete, "/codec/session", "", nil)
		require.Equal(t, http.StatusNoContent, code)
		require.Empty(t, sessionCookie(t, h).Value)
	})

	t.Run("ErrSessionNotOperator", func(t *testing.T) {
		code, h, _ := platformtest.Do(t, s.API.URL, http.MethodPost, "/codec/session", alice, nil)
		require.Equal(t, http.StatusForbidden, code)
		require.Empty(t, h.Values("Set-Cookie"))
		code, _, _ = platformtest.Do(t, s.API.URL, http.MethodPost, "/codec/session", "", nil)
		require.Equal(t, http.StatusUnauthorized, code)
	})

	t.Run("OK rotation: the old key listed second still decodes", func(t *testing.T) {
		rotated := codecServer(t, s, "new:"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))+","+temporaltest.CodecKeys)
		code, _, got := codecDo(t, rotated, "decode", codecCall{token: admin, payload: in})
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, salary, output(t, got[0])["salary"])
		code, _, enc := codecDo(t, rotated, "encode", codecCall{token: admin, payload: got})
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "new", string(enc[0].GetMetadata()[temporalx.MetadataKeyID]), "the first key encrypts")
	})

	t.Run("ErrUnknownKey", func(t *testing.T) {
		dropped := codecServer(t, s, "new:"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
		code, _, got := codecDo(t, dropped, "decode", codecCall{token: admin, payload: in})
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, string(got[0].GetData()), `unknown key "`+temporaltest.CodecKeyID+`"`)
		require.Contains(t, string(got[0].GetData()), "TEMPORAL_CODEC_KEYS")
	})
}

// codecServer serves a gateway whose codec holds keys (TEMPORAL_CODEC_KEYS form), with the
// stack's token verification and authorization.
func codecServer(t *testing.T, s *platformtest.Stack, keys string) string {
	t.Helper()
	parsed, err := config.ParseCodecKeys(keys, "keys")
	require.NoError(t, err)
	codec, err := temporalx.NewCodec(parsed)
	require.NoError(t, err)
	_, h := gateway.New(gateway.Deps{Verifier: s.Services.Verifier, Authz: s.Services.Authz, Codec: codec, Logger: s.Env.Logger})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// preflight sends the browser's CORS preflight of a decode request from origin.
func preflight(t *testing.T, base, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, base+"/codec/decode", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func sessionCookie(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == codecapi.SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", codecapi.SessionCookie, h.Values("Set-Cookie"))
	return nil
}
