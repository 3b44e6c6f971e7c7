"""PyTorch round trips through torch.export (slow to import: torch is kept to this file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris

from noria.errors import InvalidArgument, Unsupported
from noria.models.format import load_model, save_model
from noria.models.signature import TensorSchema, TensorSpec

# float32 networks: the exported graph may fuse operations differently from eager mode.
TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


class TwoInputs(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Linear(3, 1)

    def forward(self, values: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        return self.scale(values) + offset


def _trained_mlp() -> tuple[torch.nn.Module, np.ndarray]:
    torch.manual_seed(0)
    features, target = load_iris(return_X_y=True)
    inputs = torch.tensor(features, dtype=torch.float32)
    labels = torch.tensor(target)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(16, 3)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
    return model, features


def test_mlp_round_trip_matches_eval_mode_outputs(tmp_path: Path) -> None:
    model, features = _trained_mlp()

    manifest = save_model(model, tmp_path / "m", input_example=features[:5])
    loaded = load_model(tmp_path / "m")

    assert model.training  # saving exported in eval mode and put the module back
    model.eval()
    with torch.no_grad():
        expected = model(torch.tensor(features, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(loaded.predict(features), expected, **TOLERANCE)
    np.testing.assert_allclose(
        loaded.predict(torch.tensor(features[:1], dtype=torch.float32)), expected[:1], **TOLERANCE
    )
    assert manifest.signature is not None
    assert manifest.signature.inputs == TensorSchema(
        tensors=(TensorSpec(dtype="float64", shape=(-1, 4)),)
    )
    assert manifest.signature.outputs == TensorSchema(
        tensors=(TensorSpec(dtype="float32", shape=(-1, 3)),)
    )
    assert "torch" in manifest.environment.packages
    np.testing.assert_array_equal(loaded.input_example(), features[:5])


def test_one_row_example_still_exports_a_free_batch_size(tmp_path: Path) -> None:
    model, features = _trained_mlp()

    save_model(model, tmp_path / "m", input_example=features[:1])

    assert load_model(tmp_path / "m").predict(features[:7]).shape == (7, 3)


def test_wrong_width_is_refused_before_the_network_runs(tmp_path: Path) -> None:
    model, features = _trained_mlp()
    save_model(model, tmp_path / "m", input_example=features[:5])
    loaded = load_model(tmp_path / "m")

    with pytest.raises(
        InvalidArgument, match=r"has shape \(2, 3\); the model expects \('any', 4\)"
    ):
        loaded.predict(features[:2, :3])
    with pytest.raises(Unsupported, match="apply softmax"):
        loaded.predict_proba(features)


def test_named_inputs_are_passed_as_keywords(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = TwoInputs()
    example = {"values": np.ones((2, 3), dtype=np.float32), "offset": np.zeros((2, 1), np.float32)}

    save_model(model, tmp_path / "m", input_example=example)
    loaded = load_model(tmp_path / "m")

    batch = {"values": np.arange(12, dtype=np.float32).reshape(4, 3), "offset": np.ones((4, 1))}
    with torch.no_grad():
        expected = model(torch.tensor(batch["values"]), torch.ones(4, 1)).numpy()
    np.testing.assert_allclose(loaded.predict(batch), expected, **TOLERANCE)


def test_a_module_needs_an_example_to_be_exported(tmp_path: Path) -> None:
    model, _ = _trained_mlp()

    with pytest.raises(InvalidArgument, match="pass input_example"):
        save_model(model, tmp_path / "m")
