// Package version holds the build's version, set at link time with
// -ldflags "-X mcp-platform/internal/version.Version=v1.2.3".
package version

// Version is the platform's release version; "dev" for local builds.
var Version = "dev"
