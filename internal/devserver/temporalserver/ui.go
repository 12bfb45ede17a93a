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

// startUI starts the Web UI on ip:port for the frontend at frontendAddr and
// waits until it answers its health check. The caller must have checked that
// the port is free: the UI server exits the process when it cannot listen.
func startUI(ctx context.Context, ip string, port int, frontendAddr, namespace string) (*uiServer, error) {
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
