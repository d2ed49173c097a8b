"""The registry, the generated reference and the spec's catalogue agree."""
import re
from pathlib import Path

from nndoctor import remedies
from nndoctor.diagnoses import REGISTRY
from nndoctor.docs import reference_markdown

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "spec" / "diagnoses.md"


def test_every_registered_code_is_in_the_spec_catalogue():
    if not SPEC.exists():  # pragma: no cover - the spec lives beside the checkout
        import pytest
        pytest.skip("shared/spec not present")
    spec_codes = set(re.findall(r"^### `([a-z-]+)`", SPEC.read_text(), re.M))
    assert set(REGISTRY) <= spec_codes


def test_every_code_has_docs_remedies_and_a_rule():
    for code, d in REGISTRY.items():
        assert d.rule is not None, code
        assert d.what and d.why and d.evidence and d.remedies and d.thresholds, code
        for rid in d.remedies:
            r = remedies.CATALOGUE[rid].render()
            assert r.snippet and "{" not in r.title, (code, rid)
            compile(r.snippet, rid, "exec")  # snippets are valid Python


def test_generated_reference_is_up_to_date():
    assert (ROOT / "docs" / "diagnoses.md").read_text() == reference_markdown(), \
        "run `nndoctor docs` to regenerate docs/diagnoses.md"


def test_a_module_under_one_of_several_models_is_named_from_that_model():
    # `nndoctor run` names the modules of several models after their variables (enc.emb, dec.rnn): the
    # ready-to-paste fix reaches the module from its own model
    from nndoctor import remedies
    r = remedies.render(["freeze-explicitly"], model="enc", module="enc.emb", roots=("enc", "dec"))[0]
    assert 'enc.get_submodule("emb")' in r.snippet
    r = remedies.render(["freeze-explicitly"], model="enc", module="dec.rnn", roots=("enc", "dec"))[0]
    assert 'dec.get_submodule("rnn")' in r.snippet
    r = remedies.render(["freeze-explicitly"], model="net", module="backbone.0")[0]   # one model: as before
    assert 'net.get_submodule("backbone.0")' in r.snippet
