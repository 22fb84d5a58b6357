"""LearnedUnknownClassHead: alpha_u = K + 1 + evidence(z_u)."""

import numpy as np
import pytest

import keras_evidential as ke
from tests import reference
from tests.testing import TestCase


ALPHA = np.array([[1.0, 1.0, 1.0], [4.0, 2.0, 7.0]], "float32")
Z_U = np.array([[2.0], [-3.0]], "float32")


class LearnedUnknownClassHeadTest(TestCase):
    def test_every_evidence_of_z_u(self):
        for evidence in sorted(reference.EVIDENCE):
            e_u = reference.EVIDENCE[evidence](Z_U.astype("float64"))
            self.run_layer_test(
                ke.layers.LearnedUnknownClassHead,
                {"evidence": evidence},
                input_data=[ALPHA, Z_U],
                expected_output=np.concatenate([ALPHA, 4.0 + e_u], axis=-1),
                expected_output_dtype="float32",
                expected_num_trainable_weights=0,
                    # Keras's training check cannot feed a list input to `fit`;
                # the layer has no weights to train.
                run_training_check=False,
            )

    def test_an_evidence_layer_with_arguments(self):
        self.run_layer_test(
            ke.layers.LearnedUnknownClassHead,
            {"evidence": ke.layers.EvidenceExp(clip_value=1.0)},
            input_data=[ALPHA, Z_U],
            expected_output=np.concatenate(
                [ALPHA, 4.0 + np.exp(np.clip(Z_U, -1.0, 1.0))], axis=-1
            ),
            run_training_check=False,
        )


def test_zero_evidence_is_unknown_class_head():
    head = ke.layers.LearnedUnknownClassHead(evidence="relu")
    fixed = ke.layers.UnknownClassHead()
    np.testing.assert_allclose(
        np.asarray(head([ALPHA, np.full((2, 1), -1.0, "float32")])),
        np.asarray(fixed(ALPHA)),
    )


@pytest.mark.parametrize(
    "shapes, message",
    [
        ((None, 3, 4), "takes a list"),
        ([(None, 3), (None, 2)], "z_u of shape"),
        ([(None, None), (None, 1)], "known K"),
    ],
)
def test_wrong_inputs_are_named(shapes, message):
    with pytest.raises(ValueError, match=message):
        ke.layers.LearnedUnknownClassHead().compute_output_shape(shapes)


class LearnedUnknownClassHeadBuiltAtInitTest(TestCase):
    def test_is_built_at_instantiation_as_keras_requires(self):
        self.run_layer_test(
            ke.layers.LearnedUnknownClassHead,
            {},
            input_data=[ALPHA, Z_U],
            run_training_check=False,
            run_mixed_precision_check=False,
        )
