package main

import (
	"strings"
	"testing"
)

func TestImageTag(t *testing.T) {
	cases := map[string]string{
		"ghcr.io/mlflow/mlflow:v3.17.2":                   "v3.17.2",
		"ghcr.io/mlflow/mlflow":                           "",
		"registry.local:5000/mlflow":                      "",
		"registry.local:5000/team/mlflow:3.16.1":          "3.16.1",
		"ghcr.io/mlflow/mlflow:v3.16.1@sha256:0123abcdef": "v3.16.1",
		"ghcr.io/mlflow/mlflow@sha256:0123abcdef":         "",
		"mlflow:latest":                                   "latest",
	}
	for image, want := range cases {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestMlflowVersionOfImage(t *testing.T) {
	cases := map[string]string{
		"ghcr.io/mlflow/mlflow:v3.17.2":             "3.17.2",
		"ghcr.io/mlflow/mlflow:3.16.1":              "3.16.1",
		"ghcr.io/mlflow/mlflow:v3.16.1-full":        "3.16.1",
		"ghcr.io/acme/mlflow-server:3.1.0":          "3.1.0",
		"ghcr.io/mlflow/mlflow:latest":              "",
		"ghcr.io/mlflow/mlflow:v3.16":               "",
		"ghcr.io/mlflow/mlflow:3.16.1rc0":           "",
		"ghcr.io/mlflow/mlflow":                     "",
		"registry.local:5000/mlflow@sha256:0123abc": "",
	}
	for image, want := range cases {
		if got := mlflowVersionOfImage(image); got != want {
			t.Errorf("mlflowVersionOfImage(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestBinForPicksTheVersionsVirtualenvAndDefaultsOtherwise(t *testing.T) {
	versions := mlflowVersions{"3.16.1": "/tools/venv-mlflow-3.16.1/bin/mlflow", "3.17.2": "/tools/venv/bin/mlflow"}
	def := "/tools/venv/bin/mlflow"
	cases := map[string]string{
		"ghcr.io/mlflow/mlflow:v3.16.1":   "/tools/venv-mlflow-3.16.1/bin/mlflow",
		"ghcr.io/mlflow/mlflow:v3.17.2":   "/tools/venv/bin/mlflow",
		"ghcr.io/mlflow/mlflow:v3.15.0":   def, // a version the node has not built
		"ghcr.io/mlflow/mlflow:latest":    def,
		"ghcr.io/mlflow/mlflow":           def,
		"ghcr.io/acme/mlflow-server:main": def,
	}
	for image, want := range cases {
		if got := versions.binFor(image, def); got != want {
			t.Errorf("binFor(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestParseMlflowVersions(t *testing.T) {
	v, err := parseMlflowVersions("3.16.1=/t/a/bin/mlflow, 3.17.2=/t/b/bin/mlflow")
	if err != nil {
		t.Fatal(err)
	}
	if v["3.16.1"] != "/t/a/bin/mlflow" || v["3.17.2"] != "/t/b/bin/mlflow" || len(v) != 2 {
		t.Fatalf("parsed %v", v)
	}
	if v, err := parseMlflowVersions(""); err != nil || len(v) != 0 {
		t.Fatalf("empty: %v, %v", v, err)
	}
	for _, bad := range []string{"3.16.1", "v3.16.1=/t/bin/mlflow", "3.16.1=relative/bin/mlflow", "3.16.1=/t/bin/python"} {
		_, err := parseMlflowVersions(bad)
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "expected VERSION=PATH") {
			t.Errorf("parseMlflowVersions(%q) error = %v, want one naming the entry and the accepted form", bad, err)
		}
	}
}

func TestContainerProgram(t *testing.T) {
	bin := "/tools/venv-mlflow-3.16.1/bin/mlflow"
	cases := []struct {
		argv []string
		want string
		ok   bool
	}{
		{[]string{"mlflow", "server"}, bin, true},
		{[]string{"/usr/local/bin/mlflow", "db", "upgrade"}, bin, true},
		{[]string{"python", "-m", "mlflow.server.auth", "db", "upgrade"}, "/tools/venv-mlflow-3.16.1/bin/python", true},
		{[]string{"python3", "-m", "mlflow.server.auth"}, "/tools/venv-mlflow-3.16.1/bin/python", true},
		{[]string{"python", "-c", "print(1)"}, "/tools/venv-mlflow-3.16.1/bin/python", true},
		{[]string{"python", "-c"}, "", false},
		{[]string{"python", "-m"}, "", false},
		{[]string{"python", "script.py"}, "", false},
		{[]string{"sh", "-c", "mlflow server"}, "", false},
		{nil, "", false},
	}
	for _, c := range cases {
		got, ok := containerProgram(c.argv, bin)
		if got != c.want || ok != c.ok {
			t.Errorf("containerProgram(%q) = %q, %v; want %q, %v", c.argv, got, ok, c.want, c.ok)
		}
	}
}

func TestRedactURIPasswords(t *testing.T) {
	cases := map[string]string{
		"mlflow db upgrade postgresql://app:s3cr%40t@db.local:5432/mlflow": "mlflow db upgrade postgresql://app:***@db.local:5432/mlflow",
		"--url=postgresql+psycopg2://u:p@h/d --x":                          "--url=postgresql+psycopg2://u:***@h/d --x",
		"postgresql://app@db.local/mlflow":                                 "postgresql://app@db.local/mlflow",
		"s3://bucket/path --host 127.0.0.1:5000":                           "s3://bucket/path --host 127.0.0.1:5000",
	}
	for in, want := range cases {
		if got := redactURIPasswords(in); got != want {
			t.Errorf("redactURIPasswords(%q) = %q, want %q", in, got, want)
		}
	}
}
