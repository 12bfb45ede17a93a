// Package toolsearch ranks tools against a piece of conversation with Okapi BM25 over their
// words (name, title, description, domain): the lexical relevance that picks the tools offered
// to an LLM from a big catalog, and that answers its search_tools calls.
//
// It is written here rather than taken from a library: the candidates (bleve, for one) are
// full-text engines with on-disk indexes, analyzers and dozens of dependencies, while a few
// thousand short in-memory documents need about a hundred lines.
package toolsearch

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
)

// BM25 parameters: the usual term-frequency saturation and length normalisation.
const (
	k1 = 1.2
	b  = 0.75
)

// Document is one tool as the index sees it. Name's words weigh more than the rest: a query
// that names a tool should find it first.
type Document struct {
	// Name is the tool's namespaced name ("hr.get_employee"); its words count nameWeight times.
	Name string
	// Text is everything else that describes it: title, description, domain and its description.
	Text string
}

// nameWeight is how many times a word of a tool's name counts.
const nameWeight = 3

// Index ranks a fixed set of documents. It is safe for concurrent use once built.
type Index struct {
	// postings maps a term to the documents holding it and how often.
	postings map[string][]posting
	lengths  []float64
	avgLen   float64
	names    []string
}

type posting struct {
	doc  int
	freq float64
}

// New indexes docs; Search returns positions in this slice.
func New(docs []Document) *Index {
	ix := &Index{postings: map[string][]posting{}, lengths: make([]float64, len(docs)), names: make([]string, len(docs))}
	total := 0.0
	for i, d := range docs {
		ix.names[i] = strings.ToLower(d.Name)
		freq := map[string]float64{}
		for _, t := range Terms(d.Name) {
			freq[t] += nameWeight
		}
		for _, t := range Terms(d.Text) {
			freq[t]++
		}
		n := 0.0
		for t, f := range freq {
			ix.postings[t] = append(ix.postings[t], posting{doc: i, freq: f})
			n += f
		}
		ix.lengths[i] = n
		total += n
	}
	if len(docs) > 0 {
		ix.avgLen = total / float64(len(docs))
	}
	return ix
}

// Len is the number of documents.
func (ix *Index) Len() int { return len(ix.lengths) }

// Hit is a document that matched a query.
type Hit struct {
	// Doc is the document's position in the slice given to New.
	Doc   int
	Score float64
}

// Search returns at most limit documents matching query, best first (ties in document order).
// A document whose full name appears in the query ranks above every other. A query without
// any indexed word finds nothing.
func (ix *Index) Search(query string, limit int) []Hit {
	if limit <= 0 || ix.Len() == 0 {
		return nil
	}
	n := float64(ix.Len())
	scores := make([]float64, ix.Len())
	var matched []int
	seen := map[string]bool{}
	for _, t := range Terms(query) {
		if seen[t] {
			continue
		}
		seen[t] = true
		list := ix.postings[t]
		if len(list) == 0 {
			continue
		}
		idf := math.Log(1 + (n-float64(len(list))+0.5)/(float64(len(list))+0.5))
		for _, p := range list {
			if scores[p.doc] == 0 {
				matched = append(matched, p.doc)
			}
			norm := p.freq * (k1 + 1) / (p.freq + k1*(1-b+b*ix.lengths[p.doc]/ix.avgLen))
			scores[p.doc] += idf * norm
		}
	}
	if len(matched) == 0 {
		return nil
	}
	// An exact name mentioned in the query is what the asker wants. Every name has a "." (or,
	// as published, "__"): without one the query names none.
	if q := strings.ToLower(query); strings.Contains(q, ".") || strings.Contains(q, "__") {
		var best float64
		for _, doc := range matched {
			best = max(best, scores[doc])
		}
		for _, doc := range matched {
			if name := ix.names[doc]; name != "" && (strings.Contains(q, name) || strings.Contains(q, strings.Replace(name, ".", "__", 1))) {
				scores[doc] += best + 1
			}
		}
	}
	hits := make([]Hit, len(matched))
	for i, doc := range matched {
		hits[i] = Hit{Doc: doc, Score: scores[doc]}
	}
	slices.SortFunc(hits, func(x, y Hit) int {
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		return cmp.Compare(x.Doc, y.Doc)
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

// stopWords are words too common in requests and descriptions to tell tools apart.
var stopWords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true, "by": true, "can": true,
	"do": true, "for": true, "from": true, "has": true, "have": true, "i": true, "in": true, "is": true, "it": true,
	"its": true, "me": true, "my": true, "of": true, "on": true, "or": true, "please": true, "the": true, "this": true,
	"that": true, "to": true, "we": true, "what": true, "which": true, "who": true, "with": true, "you": true, "your": true,
}

// Terms cuts text into the index's terms: lower-case runs of letters and digits ("hr.get_employee"
// is hr, get, employee), without stop words, each reduced by a light English stemmer so that
// "employees" finds "employee".
func Terms(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if stopWords[w] {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

// stem strips the common English inflections (plural, -ing, -ed) and a final e from words long
// enough to keep a stem, the same way for queries and documents: "created", "creates",
// "creating" and "create" all become "creat".
func stem(w string) string {
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ies"):
		w = w[:len(w)-3] + "y"
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		w = w[:len(w)-3]
	case len(w) > 4 && strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed"):
		w = w[:len(w)-2]
	case len(w) > 4 && (strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "xes")):
		w = w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		w = w[:len(w)-1]
	}
	if len(w) > 4 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	return w
}
