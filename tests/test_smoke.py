from tests.conftest import Runner


def test_version(run: Runner) -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("ft-atlas ")


def test_recommend_json(run: Runner) -> None:
    result = run("recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["recommendations"][0]["method"] in ("lora", "qlora")
