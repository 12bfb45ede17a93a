package composetest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"mcp-platform/internal/config"
	mcpplatform "mcp-platform/platform"
)

// role is what a platform container runs, read from its command line.
type role struct {
	service      string
	inv          invocation
	server       string // "api" or "mcp" for the HTTP servers
	orchestrator bool
	domains      []string
}

// platform is the part of the compose project that runs the binary.
type platform struct {
	project  *types.Project
	image    string
	roles    map[string]role // by service name
	imageEnv map[string]string
}

func (p platform) services() []string {
	names := make([]string, 0, len(p.roles))
	for n := range p.roles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// loadPlatform finds the services that use the image built from the Dockerfile and parses their
// command lines against the binary.
func loadPlatform(t *testing.T, project *types.Project) platform {
	t.Helper()
	df, err := parseDockerfile(rootPath("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	p := platform{project: project, roles: map[string]role{}, imageEnv: df.final().env()}
	for name, svc := range project.Services {
		if svc.Build == nil {
			continue
		}
		if p.image == "" {
			p.image = svc.Image
		}
		if svc.Image == "" || svc.Image != p.image {
			t.Errorf("service %s builds image %q; every platform service must use the one image %q", name, svc.Image, p.image)
		}
		if got := filepath.Clean(svc.Build.Context); got != repoRoot {
			t.Errorf("service %s builds from %s, want the repository root", name, got)
		}
		if svc.Build.Dockerfile != "Dockerfile" {
			t.Errorf("service %s builds with %q, want the repository's Dockerfile", name, svc.Build.Dockerfile)
		}
	}
	if p.image == "" {
		t.Fatal("no service builds the platform image from the Dockerfile")
	}
	commands := subcommands(t)
	enabled := loadDomains(t)
	for name, svc := range project.Services {
		if svc.Image != p.image {
			continue
		}
		inv, err := parseInvocation(t, commands, svc.Command)
		if err != nil {
			t.Errorf("service %s: command %q: %v", name, []string(svc.Command), err)
			continue
		}
		r := role{service: name, inv: inv}
		switch inv.command {
		case "api", "mcp":
			r.server = inv.command
		case "worker":
			_, r.orchestrator = inv.flags["orchestrator"]
			for _, d := range strings.Split(inv.flags["domains"], ",") {
				if d = strings.TrimSpace(d); d != "" {
					r.domains = append(r.domains, d)
				}
			}
			if len(r.domains) == 0 && !r.orchestrator {
				// No flag: the orchestrator and every enabled domain.
				r.orchestrator = true
				for d, c := range enabled {
					if c.IsEnabled() {
						r.domains = append(r.domains, d)
					}
				}
			}
		case "dev":
			t.Errorf("service %s runs `dev`, the single-process development stack; run each role instead", name)
		}
		p.roles[name] = r
	}
	return p
}

func TestComposeRequiresJWTSecret(t *testing.T) {
	_, err := loadCompose(map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("loading without JWT_SECRET: got error %v, want one naming JWT_SECRET", err)
	}
}

func TestComposeRequiresCodecKeys(t *testing.T) {
	_, err := loadCompose(map[string]string{"JWT_SECRET": testJWTSecret})
	if err == nil || !strings.Contains(err.Error(), "TEMPORAL_CODEC_KEYS") {
		t.Fatalf("loading without TEMPORAL_CODEC_KEYS: got error %v, want one naming TEMPORAL_CODEC_KEYS", err)
	}
}

func TestComposePlatformServices(t *testing.T) {
	project := mustLoadCompose(t, nil)
	p := loadPlatform(t, project)
	domainCfgs := loadDomains(t)

	var servers, orchestrators, migrates []string
	runners := map[string][]string{} // domain -> services running it
	for _, name := range p.services() {
		r := p.roles[name]
		switch r.inv.command {
		case "api", "mcp":
			servers = append(servers, r.inv.command)
		case "migrate":
			migrates = append(migrates, name)
			if !slices.Equal(r.inv.args, []string{"up"}) {
				t.Errorf("service %s: runs migrate %v, want migrate up", name, r.inv.args)
			}
		}
		if r.orchestrator {
			orchestrators = append(orchestrators, name)
		}
		for _, d := range r.domains {
			c, ok := domainCfgs[d]
			if !ok {
				t.Errorf("service %s: -domains %s: no config/domains/%s.yaml", name, d, d)
				continue
			}
			if !c.IsEnabled() {
				t.Errorf("service %s: domain %s is disabled in %s", name, d, c.File)
			}
			runners[d] = append(runners[d], name)
		}
	}
	slices.Sort(servers)
	if !slices.Equal(servers, []string{"api", "mcp"}) {
		t.Errorf("HTTP servers run by the platform services: %v, want api and mcp once each", servers)
	}
	if len(migrates) != 1 {
		t.Errorf("services running migrate: %v, want exactly one", migrates)
	}
	if len(orchestrators) != 1 {
		t.Errorf("services running the orchestrator worker: %v, want exactly one", orchestrators)
	}
	for name, c := range domainCfgs {
		if c.IsEnabled() && len(runners[name]) != 1 {
			t.Errorf("domain %s (task queue %s) is run by %v, want exactly one worker service "+
				"(add a worker-%s service running `worker -domains %s`)", name, c.TaskQueue, runners[name], name, name)
		}
	}
}

func TestComposeEnvironment(t *testing.T) {
	project := mustLoadCompose(t, nil)
	p := loadPlatform(t, project)
	known := knownEnv(t)
	domainCfgs := loadDomains(t)
	if !strings.Contains(readFile(t, "platform", "worker.go"), `"_DATABASE_URL"`) {
		t.Fatal("platform no longer reads <DOMAIN>_DATABASE_URL: update the compose file and this test")
	}
	for _, name := range p.services() {
		r := p.roles[name]
		svc := project.Services[name]
		for _, k := range envKeys(svc) {
			domainURL := false
			for d := range domainCfgs {
				if k == domainDatabaseEnv(d) {
					domainURL = true
					if !slices.Contains(r.domains, d) {
						t.Errorf("service %s: sets %s but does not run domain %s: a domain's credentials belong to its worker only", name, k, d)
					}
				}
			}
			if !domainURL && !known[k] {
				t.Errorf("service %s: sets %s, which mcp-platform does not read (internal/config, domains/)", name, k)
			}
			if strings.HasPrefix(k, "LLM_") && !r.orchestrator {
				t.Errorf("service %s: sets %s but does not run the orchestrator, the only role that calls the LLM", name, k)
			}
		}
		getenv := getenvOf(p.imageEnv, svc)
		cfg, err := config.Load(getenv)
		if err != nil {
			t.Errorf("service %s: its settings do not load: %v", name, err)
			continue
		}
		if cfg.Environment != config.EnvProduction {
			t.Errorf("service %s: environment %q, want production", name, cfg.Environment)
		}
		checkDatabaseURL(t, project, name, "DATABASE_URL", cfg.Database.URL)
		signer, _, err := mcpplatform.Keys(cfg)
		if err != nil {
			t.Errorf("service %s: its assertion keys do not load: %v", name, err)
		}
		if mints := signer != nil; mints != (r.server != "") {
			t.Errorf("service %s: holds the assertion signing key: %v; only the API and MCP server may (a worker verifies, never mints)", name, mints)
		}
		for _, d := range r.domains {
			if v := getenv(domainDatabaseEnv(d)); v != "" {
				checkDatabaseURL(t, project, name, domainDatabaseEnv(d), v)
				checkDomainLogin(t, project, name, d, v)
			}
		}
		host, _, err := net.SplitHostPort(cfg.Temporal.Address)
		if err != nil || !hasService(project, host) {
			t.Errorf("service %s: TEMPORAL_ADDRESS %q does not name a service of the project", name, cfg.Temporal.Address)
		}
		if r.server != "" && cfg.Server.Host != "0.0.0.0" {
			t.Errorf("service %s: MCP_HOST is %q; a server in a container must listen on 0.0.0.0 to be reachable", name, cfg.Server.Host)
		}
	}
}

// TestComposeEnvironmentWithLLM loads the project as an operator with a real LLM would, and checks
// that every role still starts: only the orchestrator needs (and gets) the provider's settings.
func TestComposeEnvironmentWithLLM(t *testing.T) {
	project := mustLoadCompose(t, map[string]string{
		"LLM_PROVIDER": "openai", "LLM_API_KEY": "sk-composetest", "LLM_MODEL": "gpt-4o-mini",
	})
	p := loadPlatform(t, project)
	for _, name := range p.services() {
		cfg, err := config.Load(getenvOf(p.imageEnv, project.Services[name]))
		if err != nil {
			t.Errorf("service %s: %v", name, err)
			continue
		}
		if p.roles[name].orchestrator && (cfg.LLM.Provider != "openai" || cfg.LLM.APIKey != "sk-composetest") {
			t.Errorf("service %s runs the orchestrator but gets LLM provider %q", name, cfg.LLM.Provider)
		}
	}
}

func hasService(project *types.Project, name string) bool {
	_, ok := project.Services[name]
	return ok
}

// checkDatabaseURL checks that a database URL points at the postgres service and at a database
// its init script creates.
func checkDatabaseURL(t *testing.T, project *types.Project, service, env, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("service %s: %s: %v", service, env, err)
		return
	}
	pg, ok := project.Services[u.Hostname()]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:") {
		t.Errorf("service %s: %s points at %q, not at the project's postgres service", service, env, u.Hostname())
	}
	if u.Port() != "" && u.Port() != "5432" {
		t.Errorf("service %s: %s uses port %s, the postgres service listens on 5432", service, env, u.Port())
	}
	db := strings.TrimPrefix(u.Path, "/")
	if !createsDatabase(t, db) {
		t.Errorf("service %s: %s names database %q, which deploy/postgres/initdb does not create", service, env, db)
	}
	if u.Query().Get("sslmode") != "disable" {
		t.Errorf("service %s: %s: the postgres service has no TLS, say sslmode=disable", service, env)
	}
}

// checkDomainLogin checks a domain worker's own database login against what the postgres service
// creates for it: the login mcp_worker_<domain>, with the password the postgres service was given.
func checkDomainLogin(t *testing.T, project *types.Project, service, domain, raw string) {
	t.Helper()
	u, _ := url.Parse(raw)
	if want := "mcp_worker_" + domain; u.User.Username() != want {
		t.Errorf("service %s: %s logs in as %q, want %s (created by deploy/postgres/initdb)", service, domainDatabaseEnv(domain), u.User.Username(), want)
	}
	pg := project.Services[u.Hostname()]
	if !slices.Contains(strings.Fields(envValue(pg, "MCP_DOMAIN_LOGINS")), domain) {
		t.Errorf("service %s: the postgres service's MCP_DOMAIN_LOGINS lacks %s, so its login does not exist", u.Hostname(), domain)
	}
	pw, _ := u.User.Password()
	if want := envValue(pg, strings.ToUpper(domain)+"_DB_PASSWORD"); pw != want {
		t.Errorf("service %s: the password in %s differs from the postgres service's %s_DB_PASSWORD", service, domainDatabaseEnv(domain), strings.ToUpper(domain))
	}
}

func createsDatabase(t *testing.T, name string) bool {
	t.Helper()
	entries, err := os.ReadDir(rootPath("deploy", "postgres", "initdb"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?i)CREATE DATABASE\s+` + regexp.QuoteMeta(name) + `\b`)
	for _, e := range entries {
		if re.MatchString(readFile(t, "deploy", "postgres", "initdb", e.Name())) {
			return true
		}
	}
	return false
}

func TestComposePasswordsAgree(t *testing.T) {
	// With non-default passwords, the clients' URLs and the postgres service's init variables
	// must still agree.
	project := mustLoadCompose(t, map[string]string{
		"MCP_DB_PASSWORD": "p-mcp", "TEMPORAL_DB_PASSWORD": "p-temporal",
		"HR_DB_PASSWORD": "p-hr", "ERP_DB_PASSWORD": "p-erp", "DEVOPS_DB_PASSWORD": "p-devops",
	})
	pg := project.Services["postgres"]
	p := loadPlatform(t, project)
	for _, name := range p.services() {
		u, err := url.Parse(envValue(project.Services[name], "DATABASE_URL"))
		if err != nil {
			t.Fatal(err)
		}
		if pw, _ := u.User.Password(); pw != envValue(pg, "MCP_DB_PASSWORD") || u.User.Username() != "mcp" {
			t.Errorf("service %s: DATABASE_URL's login does not match the postgres service's mcp login", name)
		}
		for _, d := range p.roles[name].domains {
			if v := envValue(project.Services[name], domainDatabaseEnv(d)); v != "" {
				checkDomainLogin(t, project, name, d, v)
			}
		}
	}
	temporal := project.Services["temporal"]
	if envValue(temporal, "POSTGRES_PWD") != envValue(pg, "TEMPORAL_DB_PASSWORD") || envValue(temporal, "POSTGRES_USER") != "temporal" {
		t.Error("temporal: its database login does not match the one the postgres service creates")
	}
}

func TestComposePorts(t *testing.T) {
	project := mustLoadCompose(t, nil)
	p := loadPlatform(t, project)
	defaults := config.Default()
	if defaults.Server.APIPort != 8000 || defaults.Server.MCPPort != 8001 || defaults.Temporal.UIPort != 8233 {
		t.Logf("note: config defaults are now %d/%d/%d", defaults.Server.APIPort, defaults.Server.MCPPort, defaults.Temporal.UIPort)
	}
	for _, name := range p.services() {
		r := p.roles[name]
		svc := project.Services[name]
		if r.server == "" {
			if len(svc.Ports) > 0 {
				t.Errorf("service %s publishes ports but runs no server", name)
			}
			continue
		}
		cfg, err := config.Load(getenvOf(p.imageEnv, svc))
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		port, env := cfg.Server.APIPort, "ORCHESTRATOR_PORT"
		if r.server == "mcp" {
			port, env = cfg.Server.MCPPort, "MCP_SERVER_PORT"
		}
		if !publishes(svc, port, port) {
			t.Errorf("service %s listens on %d (%s) but publishes %v; want %d:%d", name, port, env, svc.Ports, port, port)
		}
		hc := svc.HealthCheck
		if hc == nil || hc.Disable {
			t.Errorf("service %s has no healthcheck", name)
			continue
		}
		checkBinaryHealthcheck(t, p, name, hc.Test, port)
	}
	ui, ok := project.Services["temporal-ui"]
	if !ok {
		t.Fatal("no temporal-ui service")
	}
	if !publishes(ui, defaults.Temporal.UIPort, 8080) {
		t.Errorf("temporal-ui publishes %v, want %d:8080 (TEMPORAL_UI_PORT's default, as in dev)", ui.Ports, defaults.Temporal.UIPort)
	}
	if envValue(ui, "TEMPORAL_AUTH_ENABLED") != "true" {
		t.Error("temporal-ui runs without a login: set TEMPORAL_AUTH_ENABLED and its OIDC provider")
	}
	if got := envValue(ui, "TEMPORAL_ADDRESS"); got != "temporal:7233" {
		t.Errorf("temporal-ui: TEMPORAL_ADDRESS=%q, want temporal:7233", got)
	}
	// The browser decodes payloads through the gateway's codec server, at its published port.
	wantCodec := fmt.Sprintf("http://localhost:%d/codec", defaults.Server.APIPort)
	if got := envValue(ui, "TEMPORAL_CODEC_ENDPOINT"); got != wantCodec {
		t.Errorf("temporal-ui: TEMPORAL_CODEC_ENDPOINT=%q, want the gateway's codec server %s", got, wantCodec)
	}
	for _, name := range p.services() {
		cfg, err := config.Load(getenvOf(p.imageEnv, project.Services[name]))
		if err != nil {
			continue // reported by TestComposeEnvironment
		}
		u, err := url.Parse(cfg.Temporal.UIURL)
		if err != nil || u.Port() != strconv.Itoa(defaults.Temporal.UIPort) {
			t.Errorf("service %s: TEMPORAL_UI_URL %q does not point at the published Temporal UI port %d", name, cfg.Temporal.UIURL, defaults.Temporal.UIPort)
		}
	}
}

func publishes(svc types.ServiceConfig, published, target int) bool {
	for _, p := range svc.Ports {
		if int(p.Target) == target && p.Published == strconv.Itoa(published) {
			return true
		}
	}
	return false
}

// checkBinaryHealthcheck checks a healthcheck that runs the image's binary (there is no shell or
// curl in it): `mcp-platform healthcheck -url http://127.0.0.1:<port>/readyz` (or /health, the
// same check with details).
func checkBinaryHealthcheck(t *testing.T, p platform, service string, test types.HealthCheckTest, port int) {
	t.Helper()
	df, err := parseDockerfile(rootPath("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	entry := execForm(df.final().last("ENTRYPOINT"))
	if len(test) < 3 || test[0] != "CMD" || len(entry) == 0 || test[1] != entry[0] {
		t.Errorf("service %s: healthcheck %q: want [CMD, %v, healthcheck, ...] (exec form, the image has no shell)", service, []string(test), entry)
		return
	}
	args := test[2:]
	if args[0] != "healthcheck" {
		t.Errorf("service %s: healthcheck runs %q, want the healthcheck subcommand", service, args[0])
		return
	}
	var target string
	for i, a := range args {
		if (a == "-url" || a == "--url") && i+1 < len(args) {
			target = args[i+1]
		} else if v, ok := strings.CutPrefix(a, "-url="); ok {
			target = v
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() != strconv.Itoa(port) || (u.Path != "/readyz" && u.Path != "/health") {
		t.Errorf("service %s: healthcheck URL %q, want http://127.0.0.1:%d/readyz", service, target, port)
	}
	if !slices.Contains(subcommands(t), "healthcheck") {
		t.Logf("service %s: mcp-platform has no healthcheck subcommand yet; its flags are not checked", service)
		return
	}
	if _, err := parseInvocation(t, subcommands(t), args); err != nil {
		t.Errorf("service %s: healthcheck: %v", service, err)
	}
}

func TestComposeHealthcheckSubcommand(t *testing.T) {
	if !slices.Contains(subcommands(t), "healthcheck") {
		t.Skip("mcp-platform has no healthcheck subcommand yet: the api and mcp healthchecks in docker-compose.yml need `mcp-platform healthcheck -url URL`")
	}
	u := commandUsage(t, "healthcheck")
	if takesValue, ok := u.flags["url"]; !ok || !takesValue {
		t.Errorf("mcp-platform healthcheck has no -url flag (usage: %s)", u.synopsis)
	}
}

func TestComposeOrdering(t *testing.T) {
	project := mustLoadCompose(t, nil)
	p := loadPlatform(t, project)
	want := func(service, dep, condition string) {
		t.Helper()
		d, ok := project.Services[service].DependsOn[dep]
		if !ok || d.Condition != condition {
			t.Errorf("service %s: depends_on %s: got %+v, want condition %s", service, dep, d, condition)
		}
	}
	for _, name := range p.services() {
		if p.roles[name].inv.command == "migrate" {
			want(name, "postgres", types.ServiceConditionHealthy)
			if r := project.Services[name].Restart; r != types.RestartPolicyNo {
				t.Errorf("service %s: restart %q, want \"no\": it is a one-shot job", name, r)
			}
			continue
		}
		migrate := ""
		for _, other := range p.services() {
			if p.roles[other].inv.command == "migrate" {
				migrate = other
			}
		}
		want(name, migrate, types.ServiceConditionCompletedSuccessfully)
		want(name, "temporal", types.ServiceConditionHealthy)
		if r := project.Services[name].Restart; r == "" || r == types.RestartPolicyNo {
			t.Errorf("service %s: restart %q: a long-running role should come back after a crash", name, r)
		}
	}
	want("temporal", "postgres", types.ServiceConditionHealthy)
	want("temporal-ui", "temporal", types.ServiceConditionHealthy)
}

// TestComposeTemporalNotExposed: by default nothing reaches Temporal from outside the compose
// network: the frontend is not published and the UI does not run (it needs --profile ops and
// an OIDC login).
func TestComposeTemporalNotExposed(t *testing.T) {
	project, err := loadComposeWith(operatorEnv(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := project.Services["temporal-ui"]; ok {
		t.Error("temporal-ui runs without --profile ops")
	}
	for name, svc := range project.Services {
		for _, p := range svc.Ports {
			if p.Target == 7233 || p.Published == "7233" {
				t.Errorf("service %s publishes the Temporal frontend (%v): whoever reaches it could start workflows", name, p)
			}
		}
	}
}

func TestComposeHealthchecks(t *testing.T) {
	project := mustLoadCompose(t, nil)
	for _, name := range []string{"postgres", "temporal", "api", "mcp"} {
		svc, ok := project.Services[name]
		if !ok {
			t.Errorf("no %s service", name)
			continue
		}
		if hc := svc.HealthCheck; hc == nil || hc.Disable || len(hc.Test) < 2 {
			t.Errorf("service %s: no healthcheck", name)
		}
	}
	// pg_isready over TCP: while the init scripts run, the server listens on its socket only.
	if test := strings.Join(project.Services["postgres"].HealthCheck.Test, " "); !strings.Contains(test, "pg_isready") || !strings.Contains(test, "-h 127.0.0.1") {
		t.Errorf("postgres healthcheck %q: want pg_isready -h 127.0.0.1 (TCP)", test)
	}
	if test := strings.Join(project.Services["temporal"].HealthCheck.Test, " "); !strings.Contains(test, "temporal operator") {
		t.Errorf("temporal healthcheck %q: want the temporal CLI of the image", test)
	}
}

func TestComposeServicesAndVolumes(t *testing.T) {
	project := mustLoadCompose(t, nil)
	p := loadPlatform(t, project)
	for name, svc := range project.Services {
		if svc.Privileged {
			t.Errorf("service %s runs privileged", name)
		}
		if slices.Contains(svc.CapAdd, "ALL") || slices.Contains(svc.CapAdd, "SYS_ADMIN") {
			t.Errorf("service %s adds capabilities %v", name, svc.CapAdd)
		}
		if svc.NetworkMode == "host" || svc.Pid == "host" {
			t.Errorf("service %s shares the host's network or PIDs", name)
		}
		if _, ok := p.roles[name]; ok {
			if u := svc.User; u == "root" || u == "0" || strings.HasPrefix(u, "0:") {
				t.Errorf("service %s runs as root", name)
			}
			if !svc.ReadOnly {
				t.Errorf("service %s: the platform needs no writable root filesystem; set read_only", name)
			}
		} else if !pinned(svc.Image) {
			t.Errorf("service %s: image %q is not pinned to a version", name, svc.Image)
		}
		for _, v := range svc.Volumes {
			switch v.Type {
			case types.VolumeTypeVolume:
				if v.Source == "" {
					t.Errorf("service %s: anonymous volume at %s; use a named volume", name, v.Target)
				} else if _, ok := project.Volumes[v.Source]; !ok {
					t.Errorf("service %s: volume %s is not declared under volumes:", name, v.Source)
				}
			case types.VolumeTypeBind:
				rel, err := filepath.Rel(repoRoot, v.Source)
				if err != nil || strings.HasPrefix(rel, "..") {
					t.Errorf("service %s: bind mount %s is outside the repository", name, v.Source)
				} else if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("service %s: bind mount source %s: %v", name, rel, err)
				}
				if !v.ReadOnly {
					t.Errorf("service %s: bind mount %s should be read-only (:ro)", name, rel)
				}
			}
		}
	}
	pg := project.Services["postgres"]
	if !slices.ContainsFunc(pg.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeVolume && v.Source != "" && v.Target == "/var/lib/postgresql/data"
	}) {
		t.Error("postgres: keep /var/lib/postgresql/data on a named volume")
	}
	if !slices.ContainsFunc(pg.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Target == "/docker-entrypoint-initdb.d" && v.Source == rootPath("deploy", "postgres", "initdb")
	}) {
		t.Error("postgres: mount deploy/postgres/initdb at /docker-entrypoint-initdb.d")
	}
	info, err := os.Stat(rootPath("deploy", "postgres", "initdb", "10-mcp-platform.sh"))
	if err != nil || info.Mode()&0o111 == 0 {
		t.Errorf("deploy/postgres/initdb/10-mcp-platform.sh must exist and be executable (%v)", err)
	}
}

var imageTag = regexp.MustCompile(`:[0-9][0-9A-Za-z._-]*$`)

func pinned(image string) bool { return imageTag.MatchString(image) }

func TestComposeTemporal(t *testing.T) {
	project := mustLoadCompose(t, nil)
	svc, ok := project.Services["temporal"]
	if !ok {
		t.Fatal("no temporal service")
	}
	if !regexp.MustCompile(`^temporalio/auto-setup:1\.[23][0-9]\.[0-9]+$`).MatchString(svc.Image) {
		t.Errorf("temporal: image %q, want temporalio/auto-setup pinned to a 1.2x or 1.3x release", svc.Image)
	}
	env := func(k string) string { return envValue(svc, k) }
	for k, want := range map[string]string{"DB": "postgres12", "POSTGRES_SEEDS": "postgres", "DB_PORT": "5432", "TEMPORAL_ADDRESS": "temporal:7233"} {
		if got := env(k); got != want {
			t.Errorf("temporal: %s=%q, want %q", k, got, want)
		}
	}
	if env("ENABLE_ES") == "true" {
		t.Error("temporal: visibility should stay on PostgreSQL (no Elasticsearch)")
	}
	for _, k := range []string{"DBNAME", "VISIBILITY_DBNAME"} {
		if !createsDatabase(t, env(k)) {
			t.Errorf("temporal: %s=%q is not created by deploy/postgres/initdb", k, env(k))
		}
	}
	if env("SKIP_DB_CREATE") != "true" {
		t.Error("temporal: the init script creates the databases; set SKIP_DB_CREATE=true")
	}
	// The namespace the roles use is the one auto-setup registers.
	p := loadPlatform(t, project)
	for _, name := range p.services() {
		cfg, err := config.Load(getenvOf(p.imageEnv, project.Services[name]))
		if err == nil && cfg.Temporal.Namespace != env("DEFAULT_NAMESPACE") {
			t.Errorf("service %s uses namespace %q, temporal registers %q", name, cfg.Temporal.Namespace, env("DEFAULT_NAMESPACE"))
		}
	}
	// The dynamic config file is mounted where DYNAMIC_CONFIG_FILE_PATH says.
	dc := env("DYNAMIC_CONFIG_FILE_PATH")
	i := slices.IndexFunc(svc.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == dc })
	if i < 0 {
		t.Fatalf("temporal: nothing is mounted at DYNAMIC_CONFIG_FILE_PATH %s", dc)
	}
	checkDynamicConfig(t, svc.Volumes[i].Source)
}
