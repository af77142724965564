package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"kubegene.io/kubegene/test/e2e/framework"
)

// etcdTLSCerts is what hack/ha-etcd-certs.sh made: for each Secret its
// printed `kubectl create secret` command creates, the file of each key.
type etcdTLSCerts map[string]map[string]string

// makeEtcdTLSCerts runs hack/ha-etcd-certs.sh into dir and reads the Secrets
// from the commands it prints.
func makeEtcdTLSCerts(t *testing.T, s *framework.Stack, dir string) etcdTLSCerts {
	t.Helper()
	cmd := exec.Command(s.Path("hack/ha-etcd-certs.sh"), dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/ha-etcd-certs.sh: %v\n%s", err, stderr.String())
	}
	certs := etcdTLSCerts{}
	secret := regexp.MustCompile(`create secret generic (\S+) --type=kubernetes.io/tls`)
	fromFile := regexp.MustCompile(`--from-file=([^=\s]+)=(\S+)`)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := secret.FindStringSubmatch(line)
		if m == nil || !strings.Contains(line, "-n kubegene-system ") {
			t.Fatalf("hack/ha-etcd-certs.sh printed %q, want kubectl -n kubegene-system create secret generic NAME --type=kubernetes.io/tls ...", line)
		}
		files := map[string]string{}
		for _, f := range fromFile.FindAllStringSubmatch(line, -1) {
			files[f[1]] = f[2]
		}
		for _, key := range []string{"tls.crt", "tls.key", "ca.crt"} {
			if _, err := os.Stat(files[key]); err != nil {
				t.Fatalf("Secret %s: %s: %v (%s)", m[1], key, err, line)
			}
		}
		certs[m[1]] = files
	}
	return certs
}

// tlsConfig is a client configuration trusting the CA of secret, presenting
// its certificate when withCert.
func (c etcdTLSCerts) tlsConfig(t *testing.T, secret string, withCert bool) *tls.Config {
	t.Helper()
	files := c[secret]
	ca, err := os.ReadFile(files["ca.crt"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("no certificate in %s", files["ca.crt"])
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if withCert {
		pair, err := tls.LoadX509KeyPair(files["tls.crt"], files["tls.key"])
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// manifestObject reads the object of kind from a multi-document YAML file.
func manifestObject[T any](t *testing.T, path, kind string) *T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if meta.Kind != kind {
			continue
		}
		obj := new(T)
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s: %s: %v", path, kind, err)
		}
		return obj
	}
	t.Fatalf("no %s in %s", kind, path)
	return nil
}

// localFiles maps the files of secret volumes in pod to the files the
// script wrote: mount path + key -> local file.
func localFiles(t *testing.T, pod corev1.PodSpec, container corev1.Container, certs etcdTLSCerts) map[string]string {
	t.Helper()
	secretOf := map[string]string{}
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			secretOf[v.Name] = v.Secret.SecretName
		}
	}
	files := map[string]string{}
	for _, m := range container.VolumeMounts {
		secret, ok := secretOf[m.Name]
		if !ok {
			continue
		}
		// Other Secrets (the serving certificate) are not the script's;
		// a flag naming a file in them fails the test below.
		for key, file := range certs[secret] {
			files[filepath.Join(m.MountPath, key)] = file
		}
	}
	return files
}

// freePort is a port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// localURLs rewrites every URL of a comma-separated list to 127.0.0.1 and
// the local port standing for its port (a new free one for a port not seen
// before), keeping its scheme.
func localURLs(t *testing.T, value string, ports map[string]string) string {
	t.Helper()
	var out []string
	for _, s := range strings.Split(value, ",") {
		u, err := url.Parse(s)
		if err != nil || u.Port() == "" {
			t.Fatalf("URL %q in the manifest: %v", s, err)
		}
		if _, ok := ports[u.Port()]; !ok {
			ports[u.Port()] = freePort(t)
		}
		u.Host = "127.0.0.1:" + ports[u.Port()]
		out = append(out, u.String())
	}
	return strings.Join(out, ",")
}

// tlsProbe makes a TLS connection to endpoint (https://HOST:PORT) and reads
// from it for a moment: a server that refuses the client's certificate (or
// its absence) says so in an alert, after the handshake in TLS 1.3. A read
// that only times out means the connection was accepted.
func tlsProbe(cfg *tls.Config, endpoint string) error {
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"h2"}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", strings.TrimPrefix(endpoint, "https://"), cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return nil
	}
	return err
}

func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// TestEtcdTLSOfHAManifests: the etcd of artifacts/deploy/ha/etcd.yaml, run
// locally as one member with the manifest's own flags (addresses, ports,
// names and mounted paths made local) on certificates of
// hack/ha-etcd-certs.sh, serves a client presenting the client certificate
// and refuses one without a certificate, plain HTTP, and on its peer port
// any certificate but the peer one; its HTTP gateway listens on loopback
// only. An execution-apiserver with the etcd flags of ha/deployment.yaml
// stores its Executions there.
func TestEtcdTLSOfHAManifests(t *testing.T) {
	f := framework.New(t)
	s := f.Stack
	dir := t.TempDir()
	// The etcd clients below fail on purpose: no retry warnings on stderr.
	t.Setenv("ETCD_CLIENT_DEBUG", "error")
	certs := makeEtcdTLSCerts(t, s, filepath.Join(dir, "pki"))

	sts := manifestObject[appsv1.StatefulSet](t, s.Path("artifacts/deploy/ha/etcd.yaml"), "StatefulSet")
	var etcdC corev1.Container
	for _, c := range sts.Spec.Template.Spec.Containers {
		if c.Name == "etcd" {
			etcdC = c
		}
	}
	if len(etcdC.Args) == 0 {
		t.Fatalf("no container etcd with args in the StatefulSet of etcd.yaml")
	}
	member := sts.Name + "-0"
	files := localFiles(t, sts.Spec.Template.Spec, etcdC, certs)
	ports := map[string]string{}
	for _, p := range etcdC.Ports {
		ports[fmt.Sprint(p.ContainerPort)] = freePort(t)
	}
	portOf := func(name string) string {
		for _, p := range etcdC.Ports {
			if p.Name == name {
				return ports[fmt.Sprint(p.ContainerPort)]
			}
		}
		t.Fatalf("no container port %q in the etcd StatefulSet", name)
		return ""
	}
	clientPort, peerPort, metricsPort := portOf("client"), portOf("peer"), portOf("metrics")

	dataMount := ""
	for _, m := range etcdC.VolumeMounts {
		if m.Name == "data" {
			dataMount = m.MountPath
		}
	}
	var args []string
	for _, a := range etcdC.Args {
		a = strings.ReplaceAll(a, "$(POD_NAME)", member)
		if v, ok := strings.CutPrefix(a, "--listen-client-http-urls="); ok {
			for _, h := range strings.Split(v, ",") {
				if u, err := url.Parse(h); err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
					t.Errorf("etcd.yaml: --listen-client-http-urls=%s, want the pod's loopback only", v)
				}
			}
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch {
		case !hasValue:
		case name == "initial-cluster":
			// One member: its own entry only.
			for _, entry := range strings.Split(value, ",") {
				if n, u, _ := strings.Cut(entry, "="); n == member {
					value = n + "=" + localURLs(t, u, ports)
				}
			}
		case strings.Contains(value, "://"):
			value = localURLs(t, value, ports)
		case dataMount != "" && strings.HasPrefix(value, dataMount+"/"):
			value = filepath.Join(dir, "etcd", strings.TrimPrefix(value, dataMount))
		case strings.HasPrefix(value, "/"):
			local, ok := files[value]
			if !ok {
				t.Fatalf("--%s=%s: no such file in the Secrets the manifest mounts", name, value)
			}
			value = local
		}
		if hasValue {
			a = "--" + name + "=" + value
		}
		args = append(args, a)
	}
	// What makes it TLS with client certificates, said in the manifest.
	for flag, want := range map[string]string{
		"client-cert-auth":        "true",
		"peer-client-cert-auth":   "true",
		"listen-client-urls":      "https://",
		"advertise-client-urls":   "https://",
		"listen-peer-urls":        "https://",
		"listen-client-http-urls": "https://",
		"peer-cert-allowed-cn":    "",
	} {
		if v, ok := flagValue(args, flag); !ok || !strings.HasPrefix(v, want) {
			t.Errorf("etcd.yaml: --%s=%q, want it set (to %s...)", flag, v, want)
		}
	}
	for _, flag := range []string{"trusted-ca-file", "cert-file", "key-file", "peer-trusted-ca-file", "peer-cert-file", "peer-key-file"} {
		if _, ok := flagValue(args, flag); !ok {
			t.Errorf("etcd.yaml: no --%s", flag)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("etcd %s", strings.Join(args, " "))

	logPath := filepath.Join(s.LocalDir, "logs", "e2e-etcdtls-etcd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	etcd := exec.Command(filepath.Join(s.BinDir, "etcd"), args...)
	etcd.Stdout, etcd.Stderr = logFile, logFile
	// etcd takes ETCD_* variables for flags: only the manifest's flags.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			etcd.Env = append(etcd.Env, kv)
		}
	}
	// Gone with the test process, however it ends (Linux).
	etcd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := etcd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	t.Cleanup(func() {
		_ = etcd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = etcd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = etcd.Process.Kill()
			<-done
		}
	})
	etcdLog := func() string {
		data, _ := os.ReadFile(logPath)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		return strings.Join(lines[max(0, len(lines)-20):], "\n")
	}

	clientEndpoint := "https://127.0.0.1:" + clientPort
	// /health and the JSON gateway: on the client port, or apart.
	httpEndpoint := clientEndpoint
	if v, ok := flagValue(args, "listen-client-http-urls"); ok {
		httpEndpoint = strings.Split(v, ",")[0]
	}
	withCert := certs.tlsConfig(t, "execution-apiserver-etcd-client", true)
	withoutCert := certs.tlsConfig(t, "execution-apiserver-etcd-client", false)
	get := func(cfg *tls.Config, u string) (int, string, error) {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(u)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	f.WaitFor(30*time.Second, "etcd to serve /health over TLS with the client certificate", func() (bool, string) {
		code, body, err := get(withCert, httpEndpoint+"/health")
		return code == http.StatusOK && strings.Contains(body, `"health":"true"`), fmt.Sprintf("%d %s %v\n%s", code, body, err, etcdLog())
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	etcdClient := func(endpoint string, cfg *tls.Config) *clientv3.Client {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, TLS: cfg, DialTimeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	refused := func(c *clientv3.Client) error {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err := c.Put(ctx, "/e2e-etcdtls/intruder", "x")
		return err
	}

	t.Run("client certificate: put and get", func(t *testing.T) {
		c := etcdClient(clientEndpoint, withCert)
		if _, err := c.Put(ctx, "/e2e-etcdtls/key", "value"); err != nil {
			t.Fatalf("put with the client certificate: %v\n%s", err, etcdLog())
		}
		resp, err := c.Get(ctx, "/e2e-etcdtls/key")
		if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "value" {
			t.Fatalf("get with the client certificate: %v %v", resp, err)
		}
	})

	t.Run("TLS without a client certificate is refused", func(t *testing.T) {
		if err := refused(etcdClient(clientEndpoint, withoutCert)); err == nil {
			t.Errorf("a gRPC client without a certificate could write")
		} else {
			t.Logf("gRPC without a certificate: %v", err)
		}
		code, body, err := get(withoutCert, httpEndpoint+"/health")
		if err == nil {
			t.Errorf("GET /health without a certificate answered %d %s", code, body)
		} else {
			t.Logf("HTTPS without a certificate: %v", err)
		}
		// Refused for that reason: the TLS handshake of the gRPC port ends
		// in the server's alert.
		if err := tlsProbe(withoutCert, clientEndpoint); err == nil || !strings.Contains(err.Error(), "certificate required") {
			t.Errorf("TLS handshake without a certificate on the gRPC port: %v, want certificate required", err)
		}
		if err := tlsProbe(withCert, clientEndpoint); err != nil {
			t.Errorf("TLS handshake with the client certificate on the gRPC port: %v", err)
		}
	})

	t.Run("plain HTTP is refused", func(t *testing.T) {
		if err := refused(etcdClient("http://127.0.0.1:"+clientPort, nil)); err == nil {
			t.Errorf("a plain gRPC client could write")
		} else {
			t.Logf("plain gRPC: %v", err)
		}
		for _, u := range []string{clientEndpoint, httpEndpoint} {
			plain := strings.Replace(u, "https://", "http://", 1) + "/health"
			code, body, err := get(nil, plain)
			if err == nil && code == http.StatusOK {
				t.Errorf("plain GET %s answered %d %s", plain, code, body)
			} else {
				t.Logf("plain HTTP %s: %d %q %v", plain, code, strings.TrimSpace(body), err)
			}
		}
		// The probe port is plain HTTP, for health only.
		if code, body, err := get(nil, "http://127.0.0.1:"+metricsPort+"/health"); err != nil || code != http.StatusOK {
			t.Errorf("probe port /health: %d %s %v", code, body, err)
		}
		// The JSON gateway's range request, as it answers it with a certificate.
		rangeReq := `{"key":"L2UyZS1ldGNkdGxzL2tleQ=="}` // base64 of /e2e-etcdtls/key
		post := func(cfg *tls.Config, u string) (int, string) {
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
			defer c.CloseIdleConnections()
			resp, err := c.Post(u+"/v3/kv/range", "application/json", strings.NewReader(rangeReq))
			if err != nil {
				return 0, err.Error()
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		if code, body := post(withCert, httpEndpoint); code != http.StatusOK || !strings.Contains(body, `"kvs"`) {
			t.Errorf("range through the gateway with the client certificate: %d %s", code, body)
		}
		if code, body := post(nil, "http://127.0.0.1:"+metricsPort); code == http.StatusOK {
			t.Errorf("probe port serves keys: %d %s", code, body)
		} else {
			t.Logf("range on the probe port: %d %s", code, strings.TrimSpace(body))
		}
	})

	t.Run("peer port: only the peer certificate", func(t *testing.T) {
		peer := "https://127.0.0.1:" + peerPort + "/members"
		if code, body, err := get(certs.tlsConfig(t, "execution-apiserver-etcd-peer", true), peer); err != nil || code != http.StatusOK {
			t.Errorf("peer certificate: %d %s %v\n%s", code, body, err, etcdLog())
		}
		for _, tc := range []struct {
			what string
			cfg  *tls.Config
		}{
			{"no certificate", withoutCert},
			{"the apiserver's client certificate (same CA, other CN)", withCert},
		} {
			if code, body, err := get(tc.cfg, peer); err == nil {
				t.Errorf("peer port with %s answered %d %s", tc.what, code, body)
			} else {
				t.Logf("peer port with %s: %v", tc.what, err)
			}
		}
	})

	t.Run("execution-apiserver with the etcd flags of deployment.yaml", func(t *testing.T) {
		dep := manifestObject[appsv1.Deployment](t, s.Path("artifacts/deploy/ha/deployment.yaml"), "Deployment")
		c := dep.Spec.Template.Spec.Containers[0]
		files := localFiles(t, dep.Spec.Template.Spec, c, certs)
		var flags []string
		for _, a := range c.Args {
			name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			switch {
			case !strings.HasPrefix(name, "etcd-"):
				continue
			case name == "etcd-servers":
				if !strings.HasPrefix(value, "https://") {
					t.Errorf("deployment.yaml: --etcd-servers=%s, want https://", value)
				}
				// Every member stands for the one local member.
				value = localURLs(t, strings.Split(value, ",")[0], ports)
			case strings.HasPrefix(value, "/"):
				local, ok := files[value]
				if !ok {
					t.Fatalf("deployment.yaml: --%s=%s: no such file in the Secrets it mounts", name, value)
				}
				value = local
			}
			flags = append(flags, "--"+name+"="+value)
		}
		for _, flag := range []string{"etcd-servers", "etcd-cafile", "etcd-certfile", "etcd-keyfile"} {
			if _, ok := flagValue(flags, flag); !ok {
				t.Errorf("deployment.yaml: no --%s", flag)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		port := freePort(t)
		r := startReplicaWith(t, s, "etcdtls", port, append(flags, "--enable-controller=false")...)
		k := f.Kubectl.For(t)
		server := "--server=https://127.0.0.1:" + port
		f.WaitFor(time.Minute, "the execution-apiserver on the TLS etcd to be ready", func() (bool, string) {
			res := k.Run(server, "get", "--raw", "/readyz")
			return res.Success(), res.Combined() + "\n" + r.logTail(10)
		})
		ns := f.CreateNamespace("e2e-etcdtls")
		k.MustRunInput(framework.ExecutionManifest("tls", []string{"a"}, map[string][]string{"a": {"echo a"}}, nil),
			server, "create", "-f", "-", "-n", ns)
		k.MustRun(server, "get", "execution", "tls", "-n", ns)
		resp, err := etcdClient(clientEndpoint, withCert).Get(ctx, "/registry/execution.kubegene.io/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, kv := range resp.Kvs {
			keys = append(keys, string(kv.Key))
		}
		if !strings.Contains(strings.Join(keys, "\n"), "/"+ns+"/tls") {
			t.Errorf("no key of the Execution %s/tls in the TLS etcd: %v", ns, keys)
		}
	})
}
