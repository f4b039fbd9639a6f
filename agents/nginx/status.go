package nginx

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// statusTimeout bounds one request of a depth-10 monitor.
const statusTimeout = 5 * time.Second

// maxStatusBody is how much of a status page is read and matched.
const maxStatusBody = 1 << 20

// checkStatus asks status_url once, within timeout (and ctx): it must
// answer 2xx without a redirect and, with status_regex, a body that
// matches. No proxy from the environment is used, and no connection is
// kept.
func (c *config) checkStatus(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{MinVersion: tls.VersionTLS12},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.StatusURL, nil)
	if err != nil {
		return fmt.Errorf("status_url %s: %w", c.StatusURL, err)
	}
	req.Header.Set("User-Agent", "paceline-nginx-monitor")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", c.StatusURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody))
	if err != nil {
		return fmt.Errorf("GET %s: reading the body: %w", c.StatusURL, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: %s, want 2xx", c.StatusURL, resp.Status)
	}
	if c.StatusRegex != nil && !c.StatusRegex.Match(body) {
		return fmt.Errorf("GET %s: the body (%d bytes) does not match status_regex %q", c.StatusURL, len(body), c.StatusRegex.String())
	}
	return nil
}

// dialCheck connects to a listen address once, within timeout, and
// hangs up.
func dialCheck(ctx context.Context, network, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	return conn.Close()
}
