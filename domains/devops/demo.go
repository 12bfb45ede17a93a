package devops

import (
	"regexp"
	"strconv"
	"strings"

	"mcp-platform/internal/llm/mock"
)

// MockDemo teaches the mock LLM the DevOps requests ("list pods in production", "scale
// api-server to 3 replicas") and how DevOps results read best.
//
// The priorities rank these skills among every builtin domain's: scaling and logs name a
// deployment or pod, which can look like another domain's ID ("api-1234" has a SKU's shape),
// so they claim their words before ERP's and HR's lookups; only creating an invoice, which
// reads its whole clause, goes before them.
func MockDemo() mock.Demo {
	return mock.Demo{
		Skills: []mock.Skill{
			{Tool: ToolScaleDeployment, Action: "scale deployments", Priority: 90, Find: findScale,
				Examples: []string{"Scale api-server to 3 replicas in staging"}},
			{Tool: ToolGetPodLogs, Action: "read pod logs", Priority: 85, Find: findPodLogs,
				Examples: []string{"Show the logs of " + ExamplePod + " in production"}},
			{Tool: ToolListDeployments, Action: "list deployments", Priority: 80, Find: findListDeployments,
				Examples: []string{"List deployments in staging"}},
			{Tool: ToolListPods, Action: "list pods", Priority: 75, Find: findListPods,
				Examples: []string{"List pods in production"}},
		},
		Hints: mock.Hints{
			NameKeys: []string{"name"},
			IDKeys:   []string{"deployment", "pod"},
			FieldOrder: []string{"status", "namespace", "container", "replicas", "previous_replicas", "ready_replicas",
				"ready", "restarts", "node", "age", "image"},
			ColumnOrder: []string{"name", "status", "ready", "restarts", "replicas", "ready_replicas", "namespace",
				"deployment", "node", "age", "image"},
		},
		Verbs: []string{"scale", "tail"},
	}
}

// ExamplePod is a pod of the simulated cluster's production namespace, named in the help
// examples, so that trying one shows real logs.
const ExamplePod = "api-server-wz6rbskfv-7pt42"

// k8sName is the pattern of a Kubernetes object name, as in "api-server-7d9f8b6c4-x2k9p".
const k8sName = `([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)`

var (
	reScale = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\bscale\s+(?:up\s+|down\s+)?(?:the\s+)?(?:deployment\s+)?` + k8sName +
			`(?:\s+deployment)?\s+(?:up\s+|down\s+)?to\s+(\d+)(?:\s+(?:replicas?|pods?|instances?|copies))?`),
		regexp.MustCompile(`(?i)\bset\s+(?:the\s+)?(?:replicas?|replica\s+count)\s+(?:of|for)\s+(?:deployment\s+)?` + k8sName +
			`\s+to\s+(\d+)`),
		regexp.MustCompile(`(?i)\bset\s+(?:deployment\s+)?` + k8sName + `\s+(?:to\s+(\d+)\s+replicas?|replicas?\s+to\s+(\d+))`),
	}
	reLogs = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\blogs?\s+(?:of|for|from)\s+(?:the\s+)?(?:pod\s+)?` + k8sName),
		regexp.MustCompile(`(?i)\b(?:pod\s+)?([a-z0-9]+(?:[-.][a-z0-9]+)+)(?:'s|’s)?\s+(?:pod\s+)?logs?\b`),
	}
	reLogsWord = regexp.MustCompile(`(?i)\blogs?\b`)
	reTail     = regexp.MustCompile(`(?i)\b(?:last|tail)\s+(\d+)(?:\s+lines?)?\b|\b(\d+)\s+lines?\b`)
	reNSNamed  = regexp.MustCompile(`(?i)\b(?:namespace|ns)\s+([a-z0-9][-a-z0-9]*)\b|\b([a-z0-9][-a-z0-9]*)\s+namespace\b`)
	reNSIn     = regexp.MustCompile(`(?i)\b(?:in|on|within|from|of)\s+(?:the\s+)?([a-z0-9][-a-z0-9]*)\b`)
	reDeploys  = regexp.MustCompile(`(?i)\bdeployments\b`)
	rePods     = regexp.MustCompile(`(?i)\bpods\b|\bpod\s+list\b|\bwhat(?:'s|’s|\s+is|\s+are)\s+(?:\w+\s+)?running(?:\s+(?:in|on)\b|\s*$)`)
	reDigits   = regexp.MustCompile(`\d+`)
)

// notNamespace are words that follow "in" or "of" without naming a namespace.
var notNamespace = map[string]bool{"the": true, "all": true, "every": true, "each": true, "a": true, "an": true,
	"my": true, "our": true, "this": true, "that": true, "it": true, "there": true, "here": true, "total": true,
	"namespace": true, "namespaces": true, "cluster": true, "kubernetes": true, "k8s": true, "pod": true, "pods": true,
	"deployment": true, "deployments": true, "replicas": true, "logs": true, "log": true, "detail": true, "details": true}

// namespaceIn finds the namespace a clause names, other than the names in skip.
func namespaceIn(clause string, skip ...string) string {
	if m := reNSNamed.FindStringSubmatch(clause); m != nil {
		return strings.ToLower(m[1] + m[2])
	}
	for _, m := range reNSIn.FindAllStringSubmatch(clause, -1) {
		ns := strings.ToLower(m[1])
		if !notNamespace[ns] && !prefixOfAny(skip, ns) && reDigits.FindString(ns) != ns {
			return ns
		}
	}
	return ""
}

// prefixOfAny reports whether s starts one of names (a pod "web.1" is not namespace "web").
func prefixOfAny(names []string, s string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, s) {
			return true
		}
	}
	return false
}

func findScale(clause string) []mock.Match {
	return mock.First(clause, func(sub []string) map[string]any {
		name := strings.ToLower(sub[1])
		if notNamespace[name] {
			return nil
		}
		n, _ := strconv.Atoi(strings.Join(sub[2:], "")) // the one replica group that matched
		args := map[string]any{"deployment_name": name, "replicas": n}
		if ns := namespaceIn(clause, name); ns != "" {
			args["namespace"] = ns
		}
		return args
	}, reScale...)
}

func findPodLogs(clause string) []mock.Match {
	ms := mock.First(clause, func(sub []string) map[string]any {
		pod := strings.ToLower(sub[1])
		if notNamespace[pod] {
			return nil
		}
		args := map[string]any{"pod_name": pod}
		if ns := namespaceIn(clause, pod); ns != "" {
			args["namespace"] = ns
		}
		if t := reTail.FindStringSubmatch(clause); t != nil {
			n, _ := strconv.Atoi(t[1] + t[2])
			if n > 0 {
				args["tail"] = n
			}
		}
		return args
	}, reLogs...)
	if ms != nil {
		return ms
	}
	if loc := reLogsWord.FindStringIndex(clause); loc != nil {
		return []mock.Match{{Start: loc[0], End: loc[1], Ask: `Which pod's logs? For example: "show the logs of ` +
			ExamplePod + ` in production" (list the pods first to get their names).`}}
	}
	return nil
}

func findListDeployments(clause string) []mock.Match {
	return mock.First(clause, func([]string) map[string]any {
		args := map[string]any{}
		if ns := namespaceIn(clause); ns != "" {
			args["namespace"] = ns
		}
		return args
	}, reDeploys)
}

func findListPods(clause string) []mock.Match {
	return mock.First(clause, func([]string) map[string]any {
		ns := namespaceIn(clause)
		if ns == "" {
			ns = "production" // the tool needs one; production is the platform's default namespace
		}
		return map[string]any{"namespace": ns}
	}, rePods)
}
