"""Model evaluation: metric suites, slices, plots, explanations and promotion gates.

Everything here is pure and storage-free: it takes a predictor (anything with
``predict``, and ``predict_proba`` for probabilities) and a DataFrame, and returns
plain results. Loading models by URI and storing verdicts belong to the callers.

>>> from noria.evaluation.evaluate import evaluate_predictor
>>> from noria.evaluation.gates import check_gate, parse_gate_policy
>>> result = evaluate_predictor(model, frame, label="target")
>>> verdict = check_gate(parse_gate_policy(policy_text), result, champion_result)
"""
