package httpapi

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

// apiDocs is the API documentation viewer (Swagger UI 5.35, Apache-2.0: apidocs/LICENSE),
// served from the binary so /docs works without internet access.
//
//go:embed apidocs/swagger-ui-bundle.js apidocs/swagger-ui.css apidocs/LICENSE apidocs/NOTICE
var apiDocs embed.FS

// DocsPath is where each server serves its API documentation.
const DocsPath = "/docs"

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — API documentation</title>
<link rel="stylesheet" href="{{.Assets}}/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="{{.Assets}}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: {{.Spec}}, dom_id: "#docs", deepLinking: true, persistAuthorization: true});
</script>
</body>
</html>
`))

// mountDocs serves the documentation page at DocsPath and its viewer's files below it. Huma's
// own docs page loads its viewer from a CDN, which a machine without internet cannot reach.
func mountDocs(mux *http.ServeMux, title, specPath string) {
	assets, err := fs.Sub(apiDocs, "apidocs")
	if err != nil {
		panic(err) // the embedded directory is part of the build
	}
	const assetsPath = DocsPath + "/assets"
	mux.Handle("GET "+assetsPath+"/", http.StripPrefix(assetsPath, cacheFor(http.FileServerFS(assets), "public, max-age=86400")))
	mux.HandleFunc("GET "+DocsPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_ = docsPage.Execute(w, struct{ Title, Assets, Spec string }{title, assetsPath, specPath})
	})
}

func cacheFor(h http.Handler, value string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", value)
		h.ServeHTTP(w, r)
	})
}
