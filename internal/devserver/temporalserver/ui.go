package temporalserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// uiServer is a running Temporal Web UI.
type uiServer struct {
	srv  *uiserver.Server
	done chan struct{} // closed when srv.Start has returned
	url  string
}

// CodecServer is the Web UI's codec server setting (the Temporal UI protocol: the browser
// POSTs {"payloads": [...]} to Endpoint+"/decode" and Endpoint+"/encode", with an X-Namespace
// header). Each UI user may override it in the UI's own codec server setting.
type CodecServer struct {
	// Endpoint is the codec server's base URL, such as http://127.0.0.1:8000/codec.
	Endpoint string
	// PassAccessToken sends the UI user's access token as a bearer token. The UI does so only
	// to https endpoints, and only when the UI itself has a login (OIDC).
	PassAccessToken bool
	// IncludeCredentials sends the browser's cookies for Endpoint (the gateway's codec session).
	IncludeCredentials bool
	// ErrorMessage is what the UI shows when decoding fails (401, 403...).
	ErrorMessage string
}

// startUI starts the Web UI on opts.IP:opts.UIPort for the frontend at frontendAddr and
// waits until it answers its health check. The caller must have checked that
// the port is free: the UI server exits the process when it cannot listen.
func startUI(ctx context.Context, opts Options, frontendAddr string) (*uiServer, error) {
	ip, port, namespace := opts.IP, opts.UIPort, opts.Namespace
	host := ip
	if net.ParseIP(ip).To4() == nil && net.ParseIP(ip) != nil {
		host = "[" + ip + "]" // the UI server formats host:port itself
	}
	srv := uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		TemporalGRPCAddress: frontendAddr,
		Host:                host,
		Port:                port,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		// Plain HTTP on a dev machine: the CSRF cookie must not be Secure.
		CORS:     uiconfig.CORS{CookieInsecure: true},
		HideLogs: true,
		// No external network: do not fetch news or check for new versions.
		DisableNewsFetch:   true,
		NotifyOnNewVersion: false,
		Codec: uiconfig.Codec{
			Endpoint:            opts.UICodec.Endpoint,
			PassAccessToken:     opts.UICodec.PassAccessToken,
			IncludeCredentials:  opts.UICodec.IncludeCredentials,
			DefaultErrorMessage: opts.UICodec.ErrorMessage,
		},
	}))
	ui := &uiServer{
		srv:  srv,
		done: make(chan struct{}),
		url:  "http://" + net.JoinHostPort(dialHost(ip), strconv.Itoa(port)),
	}
	go func() {
		defer close(ui.done)
		_ = srv.Start() // returns nil once stopped; exits the process on listen errors
	}()

	health := ui.url + "/healthz"
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	err := retry(ctx, "UI at "+ui.url, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		if err != nil {
			return permanent(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", health, resp.Status)
		}
		return nil
	})
	if err != nil {
		ui.stop()
		return nil, err
	}
	return ui, nil
}

// stop closes the UI's HTTP server and waits for its goroutine to end.
func (u *uiServer) stop() {
	u.srv.Stop()
	select {
	case <-u.done:
	case <-time.After(5 * time.Second):
	}
}
