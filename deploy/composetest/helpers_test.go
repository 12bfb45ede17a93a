package composetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"mcp-platform/authz"
	"mcp-platform/domains"
	"mcp-platform/domains/domainconfig"
)

// testJWTSecret is what the tests export as JWT_SECRET, which the compose file requires.
const testJWTSecret = "composetest-secret-0123456789abcdef0123456789"

// testAssertionKeys are what the tests export as MCP_ASSERTION_KEY and
// MCP_ASSERTION_PUBLIC_KEYS, which the compose file requires.
var testAssertionKeys = sync.OnceValue(func() map[string]string {
	signer, _, err := authz.NewKeyPair("compose")
	if err != nil {
		panic(err)
	}
	return map[string]string{"MCP_ASSERTION_KEY": signer.Format(), "MCP_ASSERTION_PUBLIC_KEYS": signer.Public().Format()}
})

// testCodecKeys is what the tests export as TEMPORAL_CODEC_KEYS, which the compose file requires.
const testCodecKeys = "composetest:Y29tcG9zZXRlc3QtcGF5bG9hZC1jb2RlYy1rZXktMzI="

// operatorEnv is the environment an operator exports before `docker compose up`: the secrets
// the compose file requires.
func operatorEnv() map[string]string {
	env := map[string]string{"JWT_SECRET": testJWTSecret, "TEMPORAL_CODEC_KEYS": testCodecKeys}
	for k, v := range testAssertionKeys() {
		env[k] = v
	}
	return env
}

// repoRoot is the module's root directory, two levels above this package.
var repoRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}()

func rootPath(elem ...string) string { return filepath.Join(append([]string{repoRoot}, elem...)...) }

func readFile(t *testing.T, elem ...string) string {
	t.Helper()
	b, err := os.ReadFile(rootPath(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// profiles are the compose profiles the tests enable: "ops" adds the Temporal UI.
var profiles = []string{"ops"}

// loadCompose loads docker-compose.yml as Docker Compose would, with env as the only environment
// (not the test process's, so that the result does not depend on the machine).
func loadCompose(env map[string]string) (*types.Project, error) {
	return loadComposeWith(env, profiles)
}

// loadComposeWith is loadCompose with the given profiles enabled.
func loadComposeWith(env map[string]string, profiles []string) (*types.Project, error) {
	details := types.ConfigDetails{
		WorkingDir:  repoRoot,
		ConfigFiles: []types.ConfigFile{{Filename: rootPath("docker-compose.yml")}},
		Environment: types.Mapping(env),
	}
	return loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("composetest", true)
		o.Profiles = profiles
	})
}

func mustLoadCompose(t *testing.T, env map[string]string) *types.Project {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	for k, v := range operatorEnv() {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	p, err := loadCompose(env)
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

// --- the binary ---------------------------------------------------------------------------------

// versionProbe is linked into the test binary through the Dockerfile's -X flag, to prove that the
// flag names a real variable.
const versionProbe = "composetest-version"

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// TestMain removes the directory of the binary the tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// platformBinary builds cmd/mcp-platform once per test run, with the version variable the
// Dockerfile's -ldflags sets, and returns its path.
func platformBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		df, err := parseDockerfile(rootPath("Dockerfile"))
		if err != nil {
			binErr = err
			return
		}
		symbol := df.versionSymbol()
		if symbol == "" {
			binErr = errors.New("Dockerfile: no -X <package>.Version=$VERSION in the go build -ldflags")
			return
		}
		if binDir, binErr = os.MkdirTemp("", "composetest-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "mcp-platform")
		cmd := exec.Command("go", "build", "-o", binPath, "-ldflags", "-X "+symbol+"="+versionProbe, "./cmd/mcp-platform")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/mcp-platform: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// runBinary runs the binary with args and an empty environment, and returns its combined output.
func runBinary(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(platformBinary(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{}
	out, _ := cmd.CombinedOutput() // -h exits 2 by design
	return string(out)
}

// usages caches what the binary's -h outputs say, per command ("" for the command list).
var (
	usageMu    sync.Mutex
	usageCache = map[string]string{}
)

// helpOutput runs `mcp-platform [name] -h` once per test run.
func helpOutput(t *testing.T, name string) string {
	t.Helper()
	usageMu.Lock()
	defer usageMu.Unlock()
	if out, ok := usageCache[name]; ok {
		return out
	}
	args := []string{"--help"}
	if name != "" {
		args = []string{name, "-h"}
	}
	out := runBinary(t, args...)
	usageCache[name] = out
	return out
}

// subcommands parses the command list of `mcp-platform --help`.
func subcommands(t *testing.T) []string {
	t.Helper()
	out := helpOutput(t, "")
	var names []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "Commands:":
			in = true
		case in && strings.TrimSpace(line) == "":
			in = false
		case in:
			names = append(names, strings.Fields(line)[0])
		}
	}
	if len(names) == 0 {
		t.Fatalf("no commands in the output of mcp-platform --help:\n%s", out)
	}
	return names
}

// usage is what `mcp-platform <cmd> -h` says: the synopsis and the flags, with whether each
// takes a value.
type usage struct {
	synopsis string
	flags    map[string]bool // name -> takes a value
}

var flagLine = regexp.MustCompile(`^  -([A-Za-z0-9][A-Za-z0-9_-]*)(?: (\S+))?$`)

func commandUsage(t *testing.T, name string) usage {
	t.Helper()
	out := helpOutput(t, name)
	u := usage{flags: map[string]bool{}}
	for _, line := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(line, "Usage: mcp-platform "); ok {
			u.synopsis = s
		}
		if m := flagLine.FindStringSubmatch(line); m != nil {
			u.flags[m[1]] = m[2] != ""
		}
	}
	if u.synopsis == "" {
		t.Fatalf("mcp-platform %s -h printed no usage line:\n%s", name, out)
	}
	return u
}

// invocation is a parsed command line of the binary.
type invocation struct {
	command string
	flags   map[string]string // name -> value ("" for booleans)
	args    []string
}

// parseInvocation checks args against the binary's usage of args[0], as the flag package would
// parse them, and returns the parsed form.
func parseInvocation(t *testing.T, commands []string, args []string) (invocation, error) {
	t.Helper()
	if len(args) == 0 {
		return invocation{}, errors.New("no command: the image's default (CMD) would run")
	}
	inv := invocation{command: args[0], flags: map[string]string{}}
	if !slices.Contains(commands, inv.command) {
		return inv, fmt.Errorf("%q is not a subcommand of mcp-platform (it has %v)", inv.command, commands)
	}
	u := commandUsage(t, inv.command)
	rest := args[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") && rest[0] != "-" {
		name, value, hasValue := strings.Cut(strings.TrimLeft(rest[0], "-"), "=")
		rest = rest[1:]
		takesValue, ok := u.flags[name]
		if !ok {
			return inv, fmt.Errorf("mcp-platform %s has no flag -%s (usage: %s)", inv.command, name, u.synopsis)
		}
		if takesValue && !hasValue {
			if len(rest) == 0 {
				return inv, fmt.Errorf("flag -%s of mcp-platform %s needs a value", name, inv.command)
			}
			value, rest = rest[0], rest[1:]
		}
		inv.flags[name] = value
	}
	inv.args = rest
	words := strings.FieldsFunc(u.synopsis, func(r rune) bool { return strings.ContainsRune(" |[]", r) })
	for _, a := range inv.args {
		if !slices.Contains(words, a) {
			return inv, fmt.Errorf("mcp-platform %s does not take the argument %q (usage: %s)", inv.command, a, u.synopsis)
		}
	}
	return inv, nil
}

// --- settings and domains -----------------------------------------------------------------------

// knownEnv lists the environment variables the binary reads, from the sources: the settings'
// bindings and getenv calls in internal/config, and the variables domain adapters read.
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	binding := regexp.MustCompile(`add\("[a-z_.]+",\s*"([A-Z][A-Z0-9_]*)"`)
	getenv := regexp.MustCompile(`[gG]etenv\("([A-Z][A-Z0-9_]*)"\)`)
	src := readFile(t, "internal", "config", "config.go")
	for _, m := range binding.FindAllStringSubmatch(src, -1) {
		known[m[1]] = true
	}
	if len(known) < 10 {
		t.Fatalf("found only %d setting bindings in internal/config/config.go: has its add(key, env, ...) form changed?", len(known))
	}
	for _, m := range getenv.FindAllStringSubmatch(src, -1) {
		known[m[1]] = true
	}
	// The OpenTelemetry variables the tracing setup reads (internal/telemetry's Env constants).
	otelEnv := regexp.MustCompile(`Env[A-Za-z]+\s*=\s*"(OTEL_[A-Z0-9_]+)"`)
	for _, m := range otelEnv.FindAllStringSubmatch(readFile(t, "internal", "telemetry", "tracing.go"), -1) {
		known[m[1]] = true
	}
	err := filepath.WalkDir(rootPath("domains"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range getenv.FindAllStringSubmatch(string(b), -1) {
			known[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return known
}

// domainDatabaseEnv is the variable with a domain's own database URL (platform).
func domainDatabaseEnv(domain string) string { return strings.ToUpper(domain) + "_DATABASE_URL" }

func loadDomains(t *testing.T) map[string]*domains.Config {
	t.Helper()
	cfgs, errs := domainconfig.LoadDir(rootPath("config", "domains"))
	for _, err := range errs {
		t.Errorf("config/domains: %v", err)
	}
	out := map[string]*domains.Config{}
	for _, c := range cfgs {
		out[c.Name] = c
	}
	if len(out) == 0 {
		t.Fatal("no domain in config/domains")
	}
	return out
}

// getenvOf returns the environment of a container: the image's ENV under the service's
// environment. MCP_CONFIG, unless set, names the repository's settings file, which the image has
// at the same path relative to its working directory.
func getenvOf(imageEnv map[string]string, svc types.ServiceConfig) func(string) string {
	return func(name string) string {
		if v, ok := svc.Environment[name]; ok && v != nil {
			return *v
		}
		if v, ok := imageEnv[name]; ok {
			return v
		}
		if name == "MCP_CONFIG" {
			return rootPath("config", "settings.yaml")
		}
		return ""
	}
}

func envKeys(svc types.ServiceConfig) []string {
	keys := make([]string, 0, len(svc.Environment))
	for k := range svc.Environment {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func envValue(svc types.ServiceConfig, name string) string {
	if v, ok := svc.Environment[name]; ok && v != nil {
		return *v
	}
	return ""
}

// --- Dockerfile -----------------------------------------------------------------------------------

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
	line int
}

// stage is one FROM ... and the instructions up to the next FROM.
type stage struct {
	base, name string
	insts      []instruction
}

type dockerfile struct {
	args   map[string]string // global ARGs (before the first FROM) and their defaults
	stages []stage
}

func parseDockerfile(path string) (*dockerfile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	df := &dockerfile{args: map[string]string{}}
	var cur strings.Builder
	start := 0
	var insts []instruction
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		insts = append(insts, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	for _, in := range insts {
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
			st := stage{base: df.expand(f[0])}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			df.stages = append(df.stages, st)
		case len(df.stages) == 0 && in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			df.args[k] = v
		case len(df.stages) > 0:
			st := &df.stages[len(df.stages)-1]
			st.insts = append(st.insts, in)
		}
	}
	if len(df.stages) == 0 {
		return nil, errors.New("Dockerfile: no FROM")
	}
	return df, nil
}

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// expand substitutes the global ARGs' defaults into s (FROM lines may use only those).
func (df *dockerfile) expand(s string) string {
	return argRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := argRef.FindStringSubmatch(ref)[1]
		if v, ok := df.args[name]; ok {
			return v
		}
		return ref
	})
}

func (df *dockerfile) final() stage { return df.stages[len(df.stages)-1] }

func (df *dockerfile) stage(name string) *stage {
	for i := range df.stages {
		if df.stages[i].name == name {
			return &df.stages[i]
		}
	}
	return nil
}

// all returns a stage's instructions of one kind.
func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.insts {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// last returns the arguments of a stage's last instruction of one kind ("" if none).
func (s stage) last(cmd string) string {
	all := s.all(cmd)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1].args
}

// env returns the stage's ENV values (KEY=value forms).
func (s stage) env() map[string]string {
	out := map[string]string{}
	for _, in := range s.all("ENV") {
		for _, kv := range strings.Fields(in.args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				out[k] = strings.Trim(v, `"`)
			}
		}
	}
	return out
}

var versionFlag = regexp.MustCompile(`-X\s+([A-Za-z0-9_./-]+\.Version)=\$\{?VERSION\}?`)

// versionSymbol is the variable the go build's -ldflags set to $VERSION.
func (df *dockerfile) versionSymbol() string {
	for _, st := range df.stages {
		for _, in := range st.all("RUN") {
			if m := versionFlag.FindStringSubmatch(in.args); m != nil {
				return m[1]
			}
		}
	}
	return ""
}

// execForm parses a JSON-array instruction argument such as ["a", "b"]; nil when in shell form.
func execForm(args string) []string {
	args = strings.TrimSpace(args)
	if !strings.HasPrefix(args, "[") || !strings.HasSuffix(args, "]") {
		return nil
	}
	var out []string
	for _, part := range strings.Split(strings.Trim(args, "[]"), ",") {
		out = append(out, strings.Trim(strings.TrimSpace(part), `"`))
	}
	return out
}

// dockerignore returns the patterns of .dockerignore.
func dockerignore(t *testing.T) []string {
	t.Helper()
	var pats []string
	sc := bufio.NewScanner(bytes.NewReader([]byte(readFile(t, ".dockerignore"))))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pats = append(pats, filepath.Clean(strings.TrimPrefix(line, "/")))
	}
	return pats
}

// ignored reports whether .dockerignore's patterns leave path (slash-separated, relative to the
// context) out of the build context. It follows Docker's rules for what this repository uses:
// a pattern matches a path or a parent directory, "**/" matches any number of directories, and a
// later "!pattern" brings a path back.
func ignored(patterns []string, path string) bool {
	out := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if matchesPathOrParent(p, path) {
			out = !neg
		}
	}
	return out
}

func matchesPathOrParent(pattern, path string) bool {
	parts := strings.Split(path, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		if rest, ok := strings.CutPrefix(pattern, "**/"); ok {
			for j := 0; j < i; j++ {
				if m, _ := filepath.Match(rest, strings.Join(parts[j:i], "/")); m {
					return true
				}
			}
			continue
		}
		if m, _ := filepath.Match(pattern, prefix); m {
			return true
		}
	}
	return false
}
