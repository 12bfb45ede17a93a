// Package codecapi is the gateway's codec server: the Temporal UI's codec protocol over the
// platform's payload codec, so that operators can read in the Temporal UI the payloads Temporal
// stores encrypted, and nobody else can.
//
//   - POST /codec/decode and POST /codec/encode take and answer {"payloads": [...]} (the
//     protojson form of Temporal payloads; the UI adds an X-Namespace header). Only principals
//     who may decode payloads (roles operator and admin) are served: anonymous callers get 401,
//     others 403. Decoded payloads keep their sensitive fields (well-known names and every
//     tool's schema-marked fields) masked unless the caller may read them (admin).
//   - They authenticate with the gateway's bearer JWT, or with the codec session cookie that
//     POST /codec/session sets for an operator: a browser's Temporal UI without a login of its
//     own (the dev UI) then decodes with the operator's identity (its "include credentials"
//     codec setting).
//   - Browsers may call them from the Temporal UI's origin (CORS, preflight included).
package codecapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/sdk/converter"

	"mcp-platform/api/httpapi"
	"mcp-platform/authz"
)

// Prefix is the codec server's base path: the Temporal UI's codec endpoint is the gateway's URL
// followed by Prefix.
const Prefix = "/codec"

// SessionCookie holds an operator's bearer token for the codec routes only (Path /codec,
// HttpOnly, SameSite=Strict), for browsers whose Temporal UI cannot send a token.
const SessionCookie = "mcp_codec_session"

// maxBody bounds a request: the UI decodes a page of events at a time, and Temporal refuses
// payloads over a few megabytes anyway.
const maxBody = 16 << 20

// Tag is the OpenAPI tag of the codec session routes.
var Tag = &huma.Tag{Name: "Codec", Description: "The Temporal UI's codec server: decoded workflow payloads for operators."}

// Deps are the codec server's dependencies. A nil Codec registers the routes (for the OpenAPI
// document) but answers 503.
type Deps struct {
	// Codec is the payload codec of the platform's Temporal clients (*temporalx.Codec).
	Codec    converter.PayloadCodec
	Verifier httpapi.Verifier
	Authz    *authz.Enforcer
	// Origins are the browser origins allowed to call (the Temporal UI's), such as
	// "http://localhost:8233".
	Origins []string
	// Sensitive returns field names masked in addition to the well-known ones (every tool's
	// schema-marked fields); nil means the well-known ones only.
	Sensitive func() []string
	Logger    *slog.Logger
}

// Register adds the codec routes: the protocol's plain HTTP routes on mux, the session
// operations on api.
func Register(mux *http.ServeMux, api huma.API, deps Deps) {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	s := &server{deps: deps}
	for _, op := range []string{"decode", "encode"} {
		mux.HandleFunc("POST "+Prefix+"/"+op, s.serve)
		mux.HandleFunc("OPTIONS "+Prefix+"/"+op, s.preflight)
	}
	addSessionRoutes(api, s)
}

type server struct {
	deps Deps
}

// allowedOrigin reports whether origin may call from a browser.
func (s *server) allowedOrigin(origin string) bool {
	return origin != "" && slices.Contains(s.deps.Origins, strings.TrimRight(origin, "/"))
}

// cors adds the CORS answer for an allowed origin. It reports false when the request comes
// from a browser page of another origin, which is refused.
func (s *server) cors(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if !s.allowedOrigin(origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	return true
}

// preflight answers the browser's CORS preflight of a codec request.
func (s *server) preflight(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) || r.Header.Get("Origin") == "" {
		problem(w, http.StatusForbidden, "this origin may not call the codec server; the Temporal UI's origin (TEMPORAL_UI_URL) may")
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Authorization-Extras, Content-Type, X-Namespace")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// serve authenticates and authorizes the caller, then encodes or decodes with the SDK's codec
// handler, masking sensitive fields of decoded payloads for callers who may not read them.
func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		problem(w, http.StatusForbidden, "this origin may not call the codec server; the Temporal UI's origin (TEMPORAL_UI_URL) may")
		return
	}
	if s.deps.Codec == nil || s.deps.Verifier == nil || s.deps.Authz == nil {
		problem(w, http.StatusServiceUnavailable, "the codec server is not configured")
		return
	}
	p, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !s.deps.Authz.CanDecodePayloads(p) {
		problem(w, http.StatusForbidden, "only operators and admins may use the codec server")
		return
	}
	inClear := s.deps.Authz.CanReadSensitivePayloads(p)
	op := strings.TrimPrefix(r.URL.Path, Prefix+"/")
	// The UI decodes a page in many requests: only reads in clear are worth a line each.
	level := slog.LevelDebug
	if inClear && op == "decode" {
		level = slog.LevelInfo
	}
	s.deps.Logger.Log(r.Context(), level, "codec server", "op", op, "user", p.Subject, "namespace", r.Header.Get("X-Namespace"), "sensitive_masked", !inClear)

	codecs := []converter.PayloadCodec{s.deps.Codec}
	if !inClear {
		// Decoding runs the codecs in order: decrypt, then mask.
		codecs = append(codecs, mask{extra: s.extra()})
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	converter.NewPayloadCodecHTTPHandler(codecs...).ServeHTTP(w, r)
}

// extra is the names masked beyond the well-known ones.
func (s *server) extra() []string {
	if s.deps.Sensitive == nil {
		return nil
	}
	return s.deps.Sensitive()
}

// authenticate verifies the bearer token, or else the session cookie. The cookie counts only
// with an X-Namespace header, which the Temporal UI sends and a cross-site form cannot, so a
// page elsewhere cannot make the browser use the operator's session.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) (authz.Principal, bool) {
	token, ok := httpapi.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" && r.Header.Get("X-Namespace") != "" {
			token, ok = c.Value, true
		}
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", httpapi.Challenge("", ""))
		problem(w, http.StatusUnauthorized, "a bearer token (or an operator's codec session, POST /codec/session) is required")
		return authz.Principal{}, false
	}
	p, err := s.deps.Verifier.Verify(r.Context(), token)
	if err != nil {
		w.Header().Set("WWW-Authenticate", httpapi.Challenge("", "invalid_token"))
		problem(w, http.StatusUnauthorized, "the bearer token is not valid; sign in again")
		return authz.Principal{}, false
	}
	return p, true
}

// problem writes RFC 9457 problem details, as the rest of the gateway does.
func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}

// sessionInput captures the bearer token and the transport of the request, which the cookie
// repeats and follows.
type sessionInput struct {
	token  string
	secure bool
}

// Resolve reads what the session needs from the request itself, so the Authorization header
// is not declared as a parameter (OpenAPI documents it as the security scheme).
func (in *sessionInput) Resolve(ctx huma.Context) []error {
	in.token, _ = httpapi.BearerToken(ctx.Header("Authorization"))
	in.secure = ctx.TLS() != nil || strings.EqualFold(ctx.Header("X-Forwarded-Proto"), "https")
	return nil
}

type sessionOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie" doc:"The codec session (HttpOnly, SameSite=Strict, Path=/codec)"`
}

// addSessionRoutes registers POST and DELETE /codec/session.
func addSessionRoutes(api huma.API, s *server) {
	huma.Register(api, huma.Operation{
		OperationID: "create-codec-session",
		Method:      http.MethodPost,
		Path:        Prefix + "/session",
		Summary:     "Open a codec session for the Temporal UI",
		Description: "For operators and admins: sets an HttpOnly cookie, sent to the codec routes only, that lets this " +
			"browser's Temporal UI decode payloads with the caller's identity (its codec server setting with \"include " +
			"cross-origin credentials\"). It holds the bearer token, so it ends when the token expires or the browser " +
			"closes. Call it from a page of the gateway (such as /docs). " +
			"The codec protocol routes themselves, POST /codec/decode and POST /codec/encode, are the Temporal UI's " +
			"and take {\"payloads\": [...]}.",
		Tags:          []string{Tag.Name},
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnauthorized, http.StatusForbidden},
	}, func(ctx context.Context, in *sessionInput) (*sessionOutput, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		if s.deps.Authz == nil || !s.deps.Authz.CanDecodePayloads(p) {
			return nil, huma.Error403Forbidden("only operators and admins may use the codec server")
		}
		s.deps.Logger.InfoContext(ctx, "codec session opened", "user", p.Subject)
		return &sessionOutput{SetCookie: sessionCookie(in.token, in.secure, 0)}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID:   "delete-codec-session",
		Method:        http.MethodDelete,
		Path:          Prefix + "/session",
		Summary:       "Close the codec session",
		Description:   "Removes the codec session cookie of this browser. Needs no token.",
		Tags:          []string{Tag.Name},
		DefaultStatus: http.StatusNoContent,
		Security:      []map[string][]string{},
	}, func(ctx context.Context, in *sessionInput) (*sessionOutput, error) {
		return &sessionOutput{SetCookie: sessionCookie("", in.secure, -1)}, nil
	})
}

// sessionCookie is the codec session cookie carrying token; maxAge -1 deletes it, 0 lasts as
// long as the browser session (the token's own expiry still applies).
func sessionCookie(token string, secure bool, maxAge int) http.Cookie {
	return http.Cookie{
		Name:     SessionCookie,
		Value:    token,
		Path:     Prefix,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteStrictMode,
	}
}
