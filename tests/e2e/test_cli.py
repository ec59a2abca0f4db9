"""The command line's front door: version, help, exit codes, bad URIs."""


def test_version_names_lakepipe_arrow_and_duckdb(run_lakepipe):
    out = run_lakepipe("--version").stdout
    assert out.startswith("lakepipe ")
    assert "Arrow 26.0.1" in out and "DuckDB v1.5.5" in out


def test_help_lists_the_commands(run_lakepipe):
    out = run_lakepipe("--help").stdout
    for command in ("ls", "cp", "query", "demo"):
        assert f"\n  {command} " in out, out


def test_missing_command_is_a_usage_error_with_exit_2(run_lakepipe):
    proc = run_lakepipe(check=False)
    assert proc.returncode == 2
    assert "subcommand is required" in proc.stderr


def test_unknown_scheme_is_one_line_naming_the_uri(run_lakepipe):
    proc = run_lakepipe("ls", "ftp://host/x", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "lakepipe: error: invalid URI 'ftp://host/x': unknown scheme 'ftp' "
        "(use a path, file://, s3://, gs://, az:// or abfs://)")


def test_ls_json_output_of_a_local_folder(run_lakepipe, tmp_path):
    import json
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.bin").write_bytes(b"12345")
    entries = json.loads(run_lakepipe("--output", "json", "ls", "-r", tmp_path).stdout)
    files = [e for e in entries if not e["is_dir"]]
    assert [(e["uri"], e["size"]) for e in files] == [(f"file://{tmp_path}/a/x.bin", 5)]
