// Package web holds the web chat UI (React + TypeScript, built with Vite) and embeds its
// production build so the single mcp-platform binary serves it.
//
// `npm run build` writes the bundle to web/dist. The only file of dist/ in git is an empty
// .gitkeep (the build puts it back after emptying the folder), so the embed pattern matches
// and `go build` works on a fresh clone before any npm build; api/webui then serves a page
// saying how to build the UI.
package web

import "embed"

// Dist is the built UI: index.html, favicon and the content-hashed files under assets/.
//
//go:embed all:dist
var Dist embed.FS
