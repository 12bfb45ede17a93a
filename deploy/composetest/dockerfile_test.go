package composetest

import (
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"mcp-platform/internal/config"
)

func TestDockerfileStages(t *testing.T) {
	df, err := parseDockerfile(rootPath("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if len(df.stages) < 3 {
		t.Fatalf("Dockerfile has %d stages, want web, Go build and runtime", len(df.stages))
	}

	web := df.stage("web")
	if web == nil || !strings.HasPrefix(web.base, "node:") {
		t.Fatal("Dockerfile: no node stage named web")
	}
	runs := strings.Join(instArgs(web.all("RUN")), "\n")
	if !strings.Contains(runs, "npm ci") || !strings.Contains(runs, "npm run build") {
		t.Errorf("web stage: want npm ci and npm run build, have %q", runs)
	}

	build := df.stage("build")
	if build == nil || !strings.HasPrefix(build.base, "golang:") {
		t.Fatal("Dockerfile: no golang stage named build")
	}
	checkGoVersion(t, build.base)
	env := build.env()
	if env["GOTOOLCHAIN"] != "local" || env["CGO_ENABLED"] != "0" {
		t.Errorf("build stage: ENV GOTOOLCHAIN=%q CGO_ENABLED=%q, want local and 0", env["GOTOOLCHAIN"], env["CGO_ENABLED"])
	}
	// go mod download gets its own layer: after copying go.mod and go.sum, before the sources.
	order := []string{}
	for _, in := range build.insts {
		switch {
		case in.cmd == "COPY" && strings.Contains(in.args, "go.mod") && strings.Contains(in.args, "go.sum") && !strings.Contains(in.args, "--from"):
			order = append(order, "mod")
		case in.cmd == "RUN" && strings.Contains(in.args, "go mod download"):
			order = append(order, "download")
		case in.cmd == "COPY" && strings.HasPrefix(strings.Join(strings.Fields(in.args), " "), ". "):
			order = append(order, "sources")
		case in.cmd == "COPY" && strings.Contains(in.args, "--from=web") && strings.Contains(in.args, "web/dist"):
			order = append(order, "web")
		case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
			order = append(order, "build")
			for _, flag := range []string{"-trimpath", "-tags slim", "-ldflags", "-s -w", "./cmd/mcp-platform"} {
				if !strings.Contains(in.args, flag) {
					t.Errorf("build stage: go build lacks %s: %s", flag, in.args)
				}
			}
		}
	}
	if !slices.Equal(order, []string{"mod", "download", "sources", "web", "build"}) {
		t.Errorf("build stage: steps in the order %v, want COPY go.mod go.sum, go mod download, COPY . ., COPY --from=web web/dist, go build", order)
	}

	final := df.final()
	if !strings.Contains(final.base, "distroless") && final.last("USER") == "" {
		t.Errorf("runtime stage %s: want a distroless base or a USER", final.base)
	}
	user := final.last("USER")
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
		t.Errorf("runtime stage: USER %q, want a non-root user", user)
	}
	if strings.Contains(final.base, "distroless") && !strings.HasSuffix(final.base, ":nonroot") {
		t.Errorf("runtime stage: %s, want the :nonroot distroless variant", final.base)
	}
	entry := execForm(final.last("ENTRYPOINT"))
	if len(entry) != 1 {
		t.Fatalf("runtime stage: ENTRYPOINT %q, want the binary alone, in exec form", final.last("ENTRYPOINT"))
	}
	copied := false
	for _, in := range final.all("COPY") {
		f := strings.Fields(in.args)
		if strings.Contains(in.args, "--from=build") && len(f) > 0 && f[len(f)-1] == entry[0] {
			copied = true
		}
	}
	if !copied {
		t.Errorf("runtime stage: ENTRYPOINT %s is not the binary copied from the build stage", entry[0])
	}
	cmd := execForm(final.last("CMD"))
	if !slices.Equal(cmd, []string{"api"}) {
		t.Errorf("runtime stage: CMD %q, want [\"api\"]", final.last("CMD"))
	}
	if _, err := parseInvocation(t, subcommands(t), cmd); err != nil {
		t.Errorf("runtime stage: CMD: %v", err)
	}
	var exposed []string
	for _, in := range final.all("EXPOSE") {
		exposed = append(exposed, strings.Fields(in.args)...)
	}
	d := config.Default()
	for _, p := range []int{d.Server.APIPort, d.Server.MCPPort} {
		if !slices.Contains(exposed, strconv.Itoa(p)) {
			t.Errorf("runtime stage: EXPOSE %v lacks %d", exposed, p)
		}
	}
	// Settings are read relative to the working directory: config/settings.yaml, config/domains.
	workdir := final.last("WORKDIR")
	hasConfig := false
	for _, in := range final.all("COPY") {
		f := strings.Fields(in.args)
		if len(f) == 2 && strings.TrimSuffix(f[0], "/") == "config" {
			dst := f[1]
			if !path.IsAbs(dst) {
				dst = path.Join(workdir, dst)
			}
			hasConfig = path.Clean(dst) == path.Join(workdir, "config")
		}
	}
	if workdir == "" || !hasConfig {
		t.Errorf("runtime stage: want config/ copied to <WORKDIR>/config (WORKDIR %q), where %s and %s are looked up",
			workdir, config.DefaultPath, config.Default().DomainsDir)
	}
}

func instArgs(insts []instruction) []string {
	out := make([]string, len(insts))
	for i, in := range insts {
		out[i] = in.args
	}
	return out
}

// checkGoVersion checks that the Go image satisfies go.mod's go line: with GOTOOLCHAIN=local an
// older Go refuses to build.
func checkGoVersion(t *testing.T, image string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)(?:\.(\d+))?\s*$`).FindStringSubmatch(readFile(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod: no go line")
	}
	tag := strings.TrimPrefix(image, "golang:")
	v := regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`).FindStringSubmatch(tag)
	if v == nil {
		t.Fatalf("build stage: cannot read the Go version of %s", image)
	}
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	want := []int{num(m[1]), num(m[2]), num(m[3])}
	got := []int{num(v[1]), num(v[2]), num(v[3])}
	if v[3] == "" {
		got[2] = 1 << 30 // golang:1.26 is the newest 1.26.x
	}
	if slices.Compare(got, want) < 0 {
		t.Errorf("build stage: %s is older than go.mod's go %s.%s.%s", image, m[1], m[2], m[3])
	}
}

// TestDockerfileVersionFlag checks that the -X flag of the Dockerfile's go build names the
// variable `mcp-platform version` prints (platformBinary links with that flag).
func TestDockerfileVersionFlag(t *testing.T) {
	out := runBinary(t, "version")
	if !strings.Contains(out, versionProbe) {
		t.Errorf("mcp-platform version printed %q after linking with the Dockerfile's -X flag; want %q in it", out, versionProbe)
	}
}

func TestDockerignore(t *testing.T) {
	pats := dockerignore(t)
	for _, p := range []string{".git", ".data", "bin", "web/node_modules", "tools/openapi-lint/node_modules", "web/dist"} {
		if !ignored(pats, p) {
			t.Errorf(".dockerignore: %s goes into the build context", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "cmd/mcp-platform/main.go", "internal/config/config.go", "migrations/00001_registry_and_audit.sql",
		"config/settings.yaml", "config/domains/hr.yaml", "web/package.json", "web/package-lock.json", "web/src", "openapi/gateway.json"} {
		if ignored(pats, p) {
			t.Errorf(".dockerignore: %s is left out of the build context, but the build needs it", p)
		}
	}
	// Every directory holding Go packages of the binary must be in the context.
	entries, err := os.ReadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && e.Name() != "deploy" && e.Name() != "bin" && hasGo(e.Name()) && ignored(pats, e.Name()) {
			t.Errorf(".dockerignore: Go package directory %s is left out of the build context", e.Name())
		}
	}
}

func hasGo(dir string) bool {
	found := false
	entries, _ := os.ReadDir(rootPath(dir))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".go") || (e.IsDir() && hasGo(path.Join(dir, e.Name()))) {
			found = true
			break
		}
	}
	return found
}

// checkDynamicConfig checks that the Temporal dynamic config file parses and has the form the
// server reads: key -> list of {value, constraints}.
func checkDynamicConfig(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var dc map[string][]struct {
		Value       any            `yaml:"value"`
		Constraints map[string]any `yaml:"constraints"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&dc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	key := regexp.MustCompile(`^[a-z]+\.[A-Za-z.]+$`)
	for k, vs := range dc {
		if !key.MatchString(k) || len(vs) == 0 {
			t.Errorf("%s: %s: want a dotted key with at least one value", file, k)
		}
	}
}
