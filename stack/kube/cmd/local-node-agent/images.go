package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// mlflowVersions maps MLflow versions to the mlflow executable of a virtualenv that has them, so a
// container image's tag chooses the MLflow that runs (there is no container runtime to pull it).
type mlflowVersions map[string]string

var versionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// parseMlflowVersions reads --mlflow-versions: comma-separated VERSION=PATH entries.
func parseMlflowVersions(s string) (mlflowVersions, error) {
	out := mlflowVersions{}
	for _, entry := range splitList(s) {
		version, bin, ok := strings.Cut(entry, "=")
		if !ok || !versionPattern.MatchString(version) || !filepath.IsAbs(bin) || filepath.Base(bin) != "mlflow" {
			return nil, fmt.Errorf("--mlflow-versions entry %q: expected VERSION=PATH with VERSION like 3.17.2 and PATH an absolute path to an mlflow executable", entry)
		}
		out[version] = bin
	}
	return out, nil
}

// imageTag is the tag of an image reference ("" when it has none); a digest after it is ignored.
func imageTag(image string) string {
	ref, _, _ := strings.Cut(image, "@")
	slash, colon := strings.LastIndex(ref, "/"), strings.LastIndex(ref, ":")
	if colon > slash {
		return ref[colon+1:]
	}
	return ""
}

// tagVersion matches the tags MLflow's images use: v3.17.2, 3.17.2, v3.17.2-full, ...
var tagVersion = regexp.MustCompile(`^v?([0-9]+\.[0-9]+\.[0-9]+)(?:-[A-Za-z0-9._-]+)?$`)

// mlflowVersionOfImage is the MLflow version an image's tag names, "" when it names none.
func mlflowVersionOfImage(image string) string {
	if m := tagVersion.FindStringSubmatch(imageTag(image)); m != nil {
		return m[1]
	}
	return ""
}

// binFor is the mlflow executable for a container image: the virtualenv of the version its tag
// names when the node has it, otherwise def (untagged images, other tags, versions not built).
func (v mlflowVersions) binFor(image, def string) string {
	if bin, ok := v[mlflowVersionOfImage(image)]; ok {
		return bin
	}
	return def
}

func (v mlflowVersions) String() string {
	versions := make([]string, 0, len(v))
	for version := range v {
		versions = append(versions, version)
	}
	sort.Strings(versions)
	return strings.Join(versions, ", ")
}

// containerProgram says how a container's command runs here: `mlflow …` as the image's MLflow,
// `python -m …` / `python -c …` (or python3) as that virtualenv's Python. ok is false for anything else.
func containerProgram(argv []string, mlflowBin string) (program string, ok bool) {
	if len(argv) == 0 {
		return "", false
	}
	switch filepath.Base(argv[0]) {
	case "mlflow":
		return mlflowBin, true
	case "python", "python3":
		if len(argv) > 2 && (argv[1] == "-m" || argv[1] == "-c") {
			return filepath.Join(filepath.Dir(mlflowBin), "python"), true
		}
	}
	return "", false
}

// uriPassword matches the password of a URI's user info (scheme://user:password@host).
var uriPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*:)[^@\s]*@`)

// redactURIPasswords hides URI passwords in a command line before it is logged.
func redactURIPasswords(s string) string {
	return uriPassword.ReplaceAllString(s, "${1}***@")
}

// mlflowBinFor is the mlflow executable a container with this image runs.
func (a *agent) mlflowBinFor(image string) string {
	return a.cfg.mlflowVers.binFor(image, a.cfg.mlflowBin)
}
