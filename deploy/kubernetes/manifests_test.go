// Package kubernetes holds the kustomize manifests of deploy/kubernetes; its test decodes every manifest strictly
// into the Kubernetes API types and checks them against the server's real configuration, so a typo in a field, a
// probe on the wrong path or port, or a variable the server does not read fails `go test` instead of a rollout.
package kubernetes

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/joho/godotenv"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/tokencheck/tokencheck/pkg/serverconfig"
)

// serverVariables are every variable the server reads; README's table of them is checked against it below, so a
// variable added to the server without a README row fails.
var serverVariables = serverconfig.Variables()

// clientVariables are the variables `client` reads (README "Tokens and calls", docs/cli.md), besides the
// downward-API and cache ones the Job sets for itself.
var clientVariables = []string{
	"ISSUER_URL", "AUTH0_DOMAIN", "AUTH0_AUDIENCE", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "API_URL",
	"AUTH0_NOSCOPE_CLIENT_ID", "AUTH0_NOSCOPE_CLIENT_SECRET", "XDG_CACHE_HOME", "POD_IP",
}

// kustomization is the part of kustomize's Kustomization these manifests use; decoding strictly into it fails on
// any other field, so a new one is added here on purpose.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels"`
	Resources          []string `json:"resources"`
	ConfigMapGenerator []struct {
		Name string   `json:"name"`
		Envs []string `json:"envs"`
	} `json:"configMapGenerator"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// manifests is everything the kustomization names, decoded.
type manifests struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	pdbs        []*policyv1.PodDisruptionBudget
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	jobs        map[string]*batchv1.Job
	configMaps  map[string]map[string]string // generated ones: name → data
}

const (
	apiName    = "tokencheck-api"
	tenantName = "tokencheck-tenant"
	testerName = "tokencheck-tester"
)

// load decodes kustomization.yaml and every resource and env file it names, strictly.
func load(t *testing.T) (*kustomization, *manifests) {
	t.Helper()
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	k := &kustomization{}
	if err := yaml.UnmarshalStrict(data, k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Fatalf("kustomization.yaml: apiVersion/kind %s/%s", k.APIVersion, k.Kind)
	}
	m := &manifests{
		deployments: map[string]*appsv1.Deployment{},
		services:    map[string]*corev1.Service{},
		jobs:        map[string]*batchv1.Job{},
		configMaps:  map[string]map[string]string{},
	}
	for _, res := range k.Resources {
		data, err := os.ReadFile(res)
		if err != nil {
			t.Fatalf("kustomization.yaml names %s: %v", res, err)
		}
		for i, doc := range splitDocuments(data) {
			decode(t, fmt.Sprintf("%s (document %d)", res, i+1), doc, m)
		}
	}
	for _, g := range k.ConfigMapGenerator {
		data := map[string]string{}
		for _, f := range g.Envs {
			vars, err := godotenv.Read(f)
			if err != nil {
				t.Fatalf("configMapGenerator %s: %v", g.Name, err)
			}
			for key, v := range vars {
				data[key] = v
			}
		}
		m.configMaps[g.Name] = data
	}
	return k, m
}

var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocuments splits a multi-document YAML file, dropping documents that hold only comments.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	for _, doc := range documentSeparator.Split(string(data), -1) {
		empty := true
		for _, line := range strings.Split(doc, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, []byte(doc))
		}
	}
	return docs
}

// decode reads one document's apiVersion and kind and decodes it strictly into that type: an unknown or
// misspelled field anywhere in it is an error.
func decode(t *testing.T, where string, doc []byte, m *manifests) {
	t.Helper()
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	strict := func(into any) {
		t.Helper()
		if err := yaml.UnmarshalStrict(doc, into); err != nil {
			t.Fatalf("%s: %s %s: %v", where, head.Kind, head.Metadata.Name, err)
		}
	}
	switch head.APIVersion + " " + head.Kind {
	case "apps/v1 Deployment":
		d := &appsv1.Deployment{}
		strict(d)
		m.deployments[d.Name] = d
	case "v1 Service":
		s := &corev1.Service{}
		strict(s)
		m.services[s.Name] = s
	case "policy/v1 PodDisruptionBudget":
		p := &policyv1.PodDisruptionBudget{}
		strict(p)
		m.pdbs = append(m.pdbs, p)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		h := &autoscalingv2.HorizontalPodAutoscaler{}
		strict(h)
		m.hpas = append(m.hpas, h)
	case "batch/v1 Job":
		j := &batchv1.Job{}
		strict(j)
		m.jobs[j.Name] = j
	default:
		t.Fatalf("%s: %s %s is not a kind this test knows; add it to decode", where, head.APIVersion, head.Kind)
	}
}

func TestEveryFileIsInTheKustomization(t *testing.T) {
	k, _ := load(t)
	named := append(slices.Clone(k.Resources), "kustomization.yaml")
	for _, g := range k.ConfigMapGenerator {
		named = append(named, g.Envs...)
	}
	files, err := filepath.Glob("*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".yml") || strings.HasSuffix(f, ".env") {
			if !slices.Contains(named, f) {
				t.Errorf("%s is not named in kustomization.yaml, so kubectl apply -k would leave it out", f)
			}
		}
	}
}

// serverConfig is the configuration the API pods get, validated by the server's own loader exactly as the
// server does at start.
func serverConfig(t *testing.T, m *manifests) (*serverconfig.Config, map[string]string) {
	t.Helper()
	api := m.deployments[apiName]
	if api == nil {
		t.Fatalf("no Deployment %s", apiName)
	}
	c := onlyContainer(t, api.Name, api.Spec.Template.Spec)
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			t.Fatalf("%s: envFrom other than a ConfigMap", api.Name)
		}
		data, ok := m.configMaps[ef.ConfigMapRef.Name]
		if !ok {
			t.Fatalf("%s: envFrom ConfigMap %q is not generated by the kustomization", api.Name, ef.ConfigMapRef.Name)
		}
		for key, v := range data {
			env[key] = v
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Fatalf("%s: env %s from a reference; this test only follows envFrom ConfigMaps", api.Name, e.Name)
		}
		env[e.Name] = e.Value
	}
	for name := range env {
		if !slices.Contains(serverVariables, name) {
			t.Errorf("%s sets %s, which the server does not read (its variables: %s)", api.Name, name,
				strings.Join(serverVariables, ", "))
		}
	}
	cfg, err := serverconfig.Load(nil, serverconfig.WithDotEnv(""), serverconfig.WithGetenv(func(k string) string {
		return env[k]
	}))
	if err != nil {
		t.Fatalf("the server would refuse this configuration and exit 2: %v", err)
	}
	return cfg, env
}

func onlyContainer(t *testing.T, name string, spec corev1.PodSpec) corev1.Container {
	t.Helper()
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", name, len(spec.Containers))
	}
	return spec.Containers[0]
}

// containerPort resolves a probe's or Service's port (a number or a port name) to a container port number.
func containerPort(t *testing.T, where string, c corev1.Container, p intstr.IntOrString) int32 {
	t.Helper()
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	t.Fatalf("%s: port %q is not a port of container %s", where, p.StrVal, c.Name)
	return 0
}

func TestAPIDeploymentMatchesTheServer(t *testing.T) {
	_, m := load(t)
	cfg, _ := serverConfig(t, m)
	api := m.deployments[apiName]
	c := onlyContainer(t, api.Name, api.Spec.Template.Spec)
	if !slices.Equal(c.Command, []string{"server"}) {
		t.Errorf("command %q, want [server]", c.Command)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != int32(cfg.Port) {
		t.Errorf("container ports %+v, want one: the server's PORT %d", c.Ports, cfg.Port)
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe: want an httpGet on %s", p.name, p.path)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s probe path %q, want %q", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if got := containerPort(t, p.name+" probe", c, p.probe.HTTPGet.Port); got != int32(cfg.Port) {
			t.Errorf("%s probe port %d, want the server's PORT %d", p.name, got, cfg.Port)
		}
		if p.probe.HTTPGet.Scheme != "" && p.probe.HTTPGet.Scheme != corev1.URISchemeHTTP {
			t.Errorf("%s probe scheme %s: the server serves plain HTTP", p.name, p.probe.HTTPGet.Scheme)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("resources.requests need cpu (the HPA scales on it) and memory: %v", c.Resources.Requests)
	}
	if c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources.limits.memory missing")
	}
	if api.Spec.Replicas != nil {
		t.Errorf("replicas %d set: the HorizontalPodAutoscaler owns the count, and every apply would reset it", *api.Spec.Replicas)
	}
	if !matches(api.Spec.Selector.MatchLabels, api.Spec.Template.Labels) {
		t.Errorf("selector %v does not match the pod labels %v", api.Spec.Selector.MatchLabels, api.Spec.Template.Labels)
	}
}

func TestPodsRunNonRootReadOnly(t *testing.T) {
	_, m := load(t)
	pods := map[string]corev1.PodSpec{}
	for name, d := range m.deployments {
		pods["Deployment "+name] = d.Spec.Template.Spec
	}
	for name, j := range m.jobs {
		pods["Job "+name] = j.Spec.Template.Spec
	}
	for name, spec := range pods {
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Errorf("%s: want securityContext runAsNonRoot: true and a non-zero runAsUser", name)
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken should be false: nothing here talks to the Kubernetes API", name)
		}
		for _, c := range spec.Containers {
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s/%s: want readOnlyRootFilesystem: true", name, c.Name)
			}
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s/%s: want allowPrivilegeEscalation: false", name, c.Name)
			}
			if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s/%s: want capabilities.drop [ALL]", name, c.Name)
			}
			if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s: want memory requests and limits", name, c.Name)
			}
		}
	}
}

func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestServicePDBAndHPASelectTheAPI(t *testing.T) {
	_, m := load(t)
	cfg, _ := serverConfig(t, m)
	api := m.deployments[apiName]
	labels := api.Spec.Template.Labels
	c := onlyContainer(t, api.Name, api.Spec.Template.Spec)

	svc := m.services[apiName]
	if svc == nil {
		t.Fatalf("no Service %s", apiName)
	}
	if !matches(svc.Spec.Selector, labels) {
		t.Errorf("Service selector %v does not select the API pods %v", svc.Spec.Selector, labels)
	}
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("Service ports %+v, want one", svc.Spec.Ports)
	}
	if got := containerPort(t, "Service targetPort", c, svc.Spec.Ports[0].TargetPort); got != int32(cfg.Port) {
		t.Errorf("Service targetPort reaches port %d, want the server's PORT %d", got, cfg.Port)
	}

	if len(m.pdbs) != 1 {
		t.Fatalf("%d PodDisruptionBudgets, want 1", len(m.pdbs))
	}
	pdb := m.pdbs[0]
	if pdb.Spec.Selector == nil || !matches(pdb.Spec.Selector.MatchLabels, labels) {
		t.Errorf("PodDisruptionBudget selector does not select the API pods %v", labels)
	}
	if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
		t.Errorf("PodDisruptionBudget without minAvailable or maxUnavailable")
	}

	if len(m.hpas) != 1 {
		t.Fatalf("%d HorizontalPodAutoscalers, want 1", len(m.hpas))
	}
	hpa := m.hpas[0]
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != apiName {
		t.Errorf("HPA scales %s %s %s, want apps/v1 Deployment %s", ref.APIVersion, ref.Kind, ref.Name, apiName)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
		t.Errorf("HPA replicas min %v max %d: want min ≥ 2 (the PDB keeps one while another is drained) ≤ max",
			hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	cpu := false
	for _, metric := range hpa.Spec.Metrics {
		if metric.Type == autoscalingv2.ResourceMetricSourceType && metric.Resource != nil &&
			metric.Resource.Name == corev1.ResourceCPU && metric.Resource.Target.AverageUtilization != nil {
			cpu = true
		}
	}
	if !cpu {
		t.Errorf("HPA has no CPU utilization metric")
	}
}

// serviceURL is http://<name>:<port> of a Service, as other pods in the namespace reach it.
func serviceURL(svc *corev1.Service) string {
	return "http://" + svc.Name + ":" + strconv.Itoa(int(svc.Spec.Ports[0].Port))
}

// flagValue is the value after flag in args, or "".
func flagValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	return ""
}

// expand resolves $(VAR) in a command the way the kubelet does, from the container's env (literal values and
// ConfigMap keys).
func expand(t *testing.T, m *manifests, c corev1.Container, s string) string {
	t.Helper()
	return regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`).ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		for _, e := range c.Env {
			if e.Name != name {
				continue
			}
			switch {
			case e.ValueFrom == nil:
				return e.Value
			case e.ValueFrom.ConfigMapKeyRef != nil:
				v, ok := m.configMaps[e.ValueFrom.ConfigMapKeyRef.Name][e.ValueFrom.ConfigMapKeyRef.Key]
				if !ok {
					t.Fatalf("%s: %s names ConfigMap key %s/%s, which does not exist", c.Name, name,
						e.ValueFrom.ConfigMapKeyRef.Name, e.ValueFrom.ConfigMapKeyRef.Key)
				}
				return v
			default:
				return ref // a runtime value (downward API)
			}
		}
		t.Fatalf("%s: %s refers to %s, which the container's env does not define", c.Name, s, ref)
		return ""
	})
}

// envValue is a container's env var with ConfigMap references resolved; ok is false when it is not set.
func envValue(t *testing.T, m *manifests, c corev1.Container, name string) (string, bool) {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return expand(t, m, c, "$("+name+")"), true
		}
	}
	return "", false
}

func TestTenantIsTheAPIsIssuer(t *testing.T) {
	_, m := load(t)
	cfg, _ := serverConfig(t, m)
	tenant := m.deployments[tenantName]
	if tenant == nil {
		t.Skipf("no stand-in tenant (%s): the API trusts %s", tenantName, cfg.Issuer)
	}
	c := onlyContainer(t, tenant.Name, tenant.Spec.Template.Spec)
	if len(c.Command) < 2 || c.Command[0] != "client" || c.Command[1] != "tenant" {
		t.Fatalf("tenant command %q, want client tenant …", c.Command)
	}
	issuer := expand(t, m, c, flagValue(c.Command, "--issuer"))
	if issuer != cfg.Issuer {
		t.Errorf("the tenant issues iss %q, the API expects %q", issuer, cfg.Issuer)
	}
	svc := m.services[tenantName]
	if svc == nil {
		t.Fatalf("no Service %s", tenantName)
	}
	if !matches(svc.Spec.Selector, tenant.Spec.Template.Labels) {
		t.Errorf("Service %s does not select the tenant pods", tenantName)
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	if want := serviceURL(svc); u.Scheme+"://"+u.Host != want {
		t.Errorf("the API's issuer %s is not the tenant's Service %s", cfg.Issuer, want)
	}
	if svc.Spec.Type != "" && svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("the stand-in tenant's Service is %s: anyone reaching it mints tokens; keep it ClusterIP", svc.Spec.Type)
	}
	addr := flagValue(c.Command, "--addr")
	if _, port, _ := strings.Cut(addr, ":"); port != strconv.Itoa(int(containerPort(t, "tenant Service",
		c, svc.Spec.Ports[0].TargetPort))) {
		t.Errorf("tenant --addr %s does not listen on its Service's targetPort", addr)
	}
}

func TestTesterJobTargetsTheAPIService(t *testing.T) {
	_, m := load(t)
	cfg, _ := serverConfig(t, m)
	job := m.jobs[testerName]
	if job == nil {
		t.Fatalf("no Job %s", testerName)
	}
	spec := job.Spec.Template.Spec
	if spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %s, want Never (a failed suite must fail the Job, not restart in place)", spec.RestartPolicy)
	}
	c := onlyContainer(t, job.Name, spec)
	if len(c.Command) < 2 || c.Command[0] != "client" || c.Command[1] != "test" {
		t.Fatalf("tester command %q, want client test …", c.Command)
	}
	if got, want := flagValue(c.Command, "--api"), serviceURL(m.services[apiName]); got != want {
		t.Errorf("tester --api %q, want the API's Service %s", got, want)
	}
	for _, e := range c.Env {
		if !slices.Contains(clientVariables, e.Name) {
			t.Errorf("tester env %s is not a variable the client reads", e.Name)
		}
	}
	if iss, _ := envValue(t, m, c, "ISSUER_URL"); iss != cfg.Issuer {
		t.Errorf("tester ISSUER_URL %q, the API's issuer is %q", iss, cfg.Issuer)
	}
	aud, _ := envValue(t, m, c, "AUTH0_AUDIENCE")
	if !slices.Contains(cfg.Audiences, aud) {
		t.Errorf("tester AUTH0_AUDIENCE %q is not one the API accepts %q", aud, cfg.Audiences)
	}
	// A failed suite (exit 1) must end the Job at once rather than be retried into a pass.
	failsOn1 := false
	if p := job.Spec.PodFailurePolicy; p != nil {
		for _, r := range p.Rules {
			if r.Action == batchv1.PodFailurePolicyActionFailJob && r.OnExitCodes != nil &&
				r.OnExitCodes.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Contains(r.OnExitCodes.Values, 1) {
				failsOn1 = true
			}
		}
	}
	if !failsOn1 && (job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0) {
		t.Errorf("a failing suite (exit 1) would be retried: want a podFailurePolicy FailJob on exit code 1, or backoffLimit 0")
	}
	if listenURL := flagValue(c.Command, "--listen-url"); listenURL == "" || flagValue(c.Command, "--listen") == "" {
		t.Errorf("tester without --listen/--listen-url: its trap key server is unreachable from the API pods")
	}
}

// TestREADMEListsTheServerVariables keeps serverVariables honest: the README's table of the server's variables
// (the contract) must list exactly these names.
func TestREADMEListsTheServerVariables(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := bytes.Cut(data, []byte("| variable | meaning | default |"))
	if !ok {
		t.Fatal(`README.md has no "| variable | meaning | default |" table`)
	}
	var names []string
	for _, line := range strings.Split(string(table), "\n")[2:] {
		if !strings.HasPrefix(line, "| `") {
			break
		}
		names = append(names, strings.Trim(strings.Split(line, "|")[1], " `"))
	}
	if !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(serverVariables))) {
		t.Errorf("README's server variables %v differ from serverconfig's %v", names, serverVariables)
	}
}
