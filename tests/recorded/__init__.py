"""Recorded responses: the wire behaviour of rolegate, pinned before the
request-path refactor (server.py -> pipeline, authorisation table, audit
built by the pipeline, typed domain, store repositories).

``corpus.py`` is a scripted, deterministic sequence of ~3,500 wire requests
covering every served operation (STS and IAM over Query, Organizations over
JSON 1.1), success and error paths, built by botocore's own serializers and
SigV4 signer and sent to a ``RolegateApp`` in process on a scripted clock
(``harness.py``). ``responses.jsonl.gz`` holds, per request, the status, the
content type, the body and the audit events it produced, normalised by
``normalise.py`` (request ids, generated ids, secrets, tokens, encoded
messages, created account ids, sub-second digits and wall-clock times
become stable placeholders). ``test_recorded_responses.py`` replays the
corpus and compares, showing the first differing responses as diffs.

Re-record only for a deliberate behaviour change, and say so in the commit:

    .venv/bin/python -m tests.recorded --record

Compare without pytest (prints the first differences):

    .venv/bin/python -m tests.recorded [--limit N]

``material.json`` holds throwaway keys (certificates, SSH keys, the OIDC
issuer's signing key, the SAML IdP certificate) so that what the server
echoes back is the same every run; ``--record`` makes it when missing.
"""
