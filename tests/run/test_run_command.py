"""``python -m ferrotorch.run``: the script or module runs as ``python`` would run it, with
``import torch`` answered by ferrotorch."""

import json
import textwrap

from _subprocess import run_shimmed

REPORT = textwrap.dedent("""
    import json, sys
    import torch
    print(json.dumps({"argv": sys.argv, "name": __name__, "path0": sys.path[0], "torch": torch.__name__}))
""")


def test_script_runs_as_main_with_its_arguments(tmp_path):
    script = tmp_path / "report.py"
    script.write_text(REPORT)
    done = run_shimmed(str(script), "--epochs", "3", "x")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {"argv": [str(script), "--epochs", "3", "x"], "name": "__main__", "path0": str(tmp_path),
                    "torch": "ferrotorch"}


def test_main_guard_runs(tmp_path):
    script = tmp_path / "guarded.py"
    script.write_text("def main():\n    print('main ran')\n\nif __name__ == '__main__':\n    main()\n")
    assert run_shimmed(str(script)).stdout == "main ran\n"


def test_exit_code_passes_through(tmp_path):
    script = tmp_path / "exits.py"
    script.write_text("import sys\nsys.exit(3)\n")
    assert run_shimmed(str(script)).returncode == 3


def test_exception_propagates_with_its_traceback(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text("import torch\n\ndef train():\n    raise ValueError('loss is nan')\n\ntrain()\n")
    done = run_shimmed(str(script))
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert f'File "{script}", line 4, in train' in done.stderr
    assert done.stderr.rstrip().endswith("ValueError: loss is nan")


def test_module_mode_runs_like_python_dash_m(tmp_path):
    package = tmp_path / "trainer"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(REPORT)
    done = run_shimmed("-m", "trainer", "--lr", "0.1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {"argv": [str(package / "__main__.py"), "--lr", "0.1"], "name": "__main__",
                    "path0": str(tmp_path), "torch": "ferrotorch"}


def test_missing_domain_package_is_reported_by_name(tmp_path):
    # ferroaudio is not part of this repository yet, so torchaudio has nothing to map onto.
    script = tmp_path / "needs_audio.py"
    script.write_text("import torchaudio\n")
    done = run_shimmed(str(script))
    assert done.returncode == 1
    assert "ModuleNotFoundError: No module named 'torchaudio': ferrotorch.run maps 'torchaudio' to 'ferroaudio'" \
        in done.stderr


def test_torchvision_maps_onto_ferrovision(tmp_path):
    script = tmp_path / "uses_vision.py"
    script.write_text("import torchvision, ferrovision\nfrom torchvision import transforms\n"
                      "assert torchvision is ferrovision and transforms is ferrovision.transforms\n")
    done = run_shimmed(str(script))
    assert done.returncode == 0, done.stderr


def test_no_arguments_prints_usage():
    done = run_shimmed()
    assert done.returncode == 2
    assert "usage: python -m ferrotorch.run" in done.stderr


def test_dash_m_without_a_module_is_an_error():
    done = run_shimmed("-m")
    assert done.returncode == 2
    assert "Argument expected for the -m option" in done.stderr


def test_objects_pickled_under_the_shim_load_without_it(tmp_path):
    script = tmp_path / "dump.py"
    target = tmp_path / "model.pkl"
    script.write_text(textwrap.dedent(f"""
        import pickle
        import torch
        model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
        with open({str(target)!r}, "wb") as f:
            pickle.dump({{"model": model, "state": model.state_dict()}}, f)
    """))
    assert run_shimmed(str(script)).returncode == 0
    import pickle

    import ferrotorch

    with open(target, "rb") as f:
        loaded = pickle.load(f)
    assert isinstance(loaded["model"], ferrotorch.nn.Sequential)
    assert isinstance(loaded["state"]["0.weight"], ferrotorch.Tensor)
    assert loaded["model"][0].weight.detach().numpy().tolist() == loaded["state"]["0.weight"].numpy().tolist()
