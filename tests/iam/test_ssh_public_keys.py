"""UploadSSHPublicKey, GetSSHPublicKey, ListSSHPublicKeys, UpdateSSHPublicKey,
DeleteSSHPublicKey (handler level) and DeleteUser's conflict."""

from __future__ import annotations

import base64
import hashlib

import pytest

from rolegate.errors import AccessDenied, DeleteConflict, InvalidInput, LimitExceeded, NoSuchEntity
from tests.iam.conftest import ACCOUNT, ROOT, user_principal
from tests.iam.credential_material import ec_key, ed25519_key, pem_public, rsa_key, ssh_public


def _md5_fingerprint(line: str) -> str:
    blob = base64.b64decode(line.split()[1])
    return ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())


def _upload(iam, user: str = "u", body: str | None = None) -> dict:
    return iam("UploadSSHPublicKey", UserName=user, SSHPublicKeyBody=body or ssh_public(rsa_key()))[
        "SSHPublicKey"
    ]


def test_lifecycle(iam):
    iam("CreateUser", UserName="u")
    body = ssh_public(rsa_key(), "me@laptop")
    key = _upload(iam, "U", body)
    assert key["UserName"] == "u" and key["Status"] == "Active"
    assert key["SSHPublicKeyId"].startswith("APKA") and len(key["SSHPublicKeyId"]) == 21
    assert key["SSHPublicKeyBody"] == body
    # MD5 of the key blob, as `ssh-keygen -E md5 -l` shows it.
    assert key["Fingerprint"] == _md5_fingerprint(body)
    assert len(key["Fingerprint"]) == 47
    assert iam.auth.calls[-1][:2] == ("iam:UploadSSHPublicKey", f"arn:aws:iam::{ACCOUNT}:user/u")

    kid = key["SSHPublicKeyId"]
    got = iam("GetSSHPublicKey", UserName="u", SSHPublicKeyId=kid, Encoding="SSH")["SSHPublicKey"]
    assert got == key
    pem = iam("GetSSHPublicKey", UserName="u", SSHPublicKeyId=kid, Encoding="PEM")["SSHPublicKey"]
    assert pem["SSHPublicKeyBody"] == pem_public(rsa_key())
    assert pem["Fingerprint"] == key["Fingerprint"]

    listed = iam("ListSSHPublicKeys", UserName="u")
    assert listed == {
        "SSHPublicKeys": [
            {
                "UserName": "u",
                "SSHPublicKeyId": kid,
                "Status": "Active",
                "UploadDate": key["UploadDate"],
            }
        ],
        "IsTruncated": False,
    }
    iam("UpdateSSHPublicKey", UserName="u", SSHPublicKeyId=kid, Status="Inactive")
    assert (
        iam("GetSSHPublicKey", UserName="u", SSHPublicKeyId=kid, Encoding="SSH")["SSHPublicKey"][
            "Status"
        ]
        == "Inactive"
    )
    iam("DeleteSSHPublicKey", UserName="u", SSHPublicKeyId=kid)
    assert iam("ListSSHPublicKeys", UserName="u")["SSHPublicKeys"] == []
    for action, extra in [
        ("GetSSHPublicKey", {"Encoding": "SSH"}),
        ("UpdateSSHPublicKey", {"Status": "Active"}),
        ("DeleteSSHPublicKey", {}),
    ]:
        with pytest.raises(NoSuchEntity) as e:
            iam(action, UserName="u", SSHPublicKeyId=kid, **extra)
        assert e.value.message == f"The Public Key with id {kid} cannot be found."


def test_pem_upload_is_served_in_both_encodings(iam):
    iam("CreateUser", UserName="u")
    key = _upload(iam, body=pem_public(rsa_key("pem")))
    ssh = iam(
        "GetSSHPublicKey", UserName="u", SSHPublicKeyId=key["SSHPublicKeyId"], Encoding="SSH"
    )["SSHPublicKey"]
    assert ssh["SSHPublicKeyBody"] == ssh_public(rsa_key("pem"))
    assert key["Fingerprint"] == _md5_fingerprint(ssh_public(rsa_key("pem")))


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("ssh-rsa not-base64!", "InvalidPublicKey"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "InvalidPublicKey"),
        ("hello world", "UnrecognizedPublicKeyEncoding"),
    ],
)
def test_bad_bodies(iam, body, code):
    iam("CreateUser", UserName="u")
    with pytest.raises(Exception) as e:
        _upload(iam, body=body)
    assert (e.value.code, e.value.status) == (code, 400)


def test_only_rsa_of_at_least_2048_bits(iam):
    iam("CreateUser", UserName="u")
    for key in (rsa_key("short", 1024), ec_key(), ed25519_key()):
        with pytest.raises(Exception) as e:
            _upload(iam, body=ssh_public(key))
        assert e.value.code == "InvalidPublicKey"
    assert iam("ListSSHPublicKeys", UserName="u")["SSHPublicKeys"] == []


def test_duplicate_and_quota(iam):
    iam("CreateUser", UserName="u")
    iam("CreateUser", UserName="other")
    _upload(iam, body=ssh_public(rsa_key("k0")))
    with pytest.raises(Exception) as e:
        # The same key again, even re-encoded as PEM.
        _upload(iam, body=pem_public(rsa_key("k0")))
    assert (e.value.code, e.value.status) == ("DuplicateSSHPublicKey", 400)
    # Another user may hold the same key.
    _upload(iam, "other", ssh_public(rsa_key("k0")))
    for i in range(1, 5):
        _upload(iam, body=ssh_public(rsa_key(f"k{i}")))
    with pytest.raises(LimitExceeded):
        _upload(iam, body=ssh_public(rsa_key("k5")))


def test_key_of_another_user_is_not_found(iam):
    iam("CreateUser", UserName="a")
    iam("CreateUser", UserName="b")
    kid = _upload(iam, "a")["SSHPublicKeyId"]
    with pytest.raises(NoSuchEntity):
        iam("GetSSHPublicKey", UserName="b", SSHPublicKeyId=kid, Encoding="SSH")
    with pytest.raises(NoSuchEntity):
        iam("DeleteSSHPublicKey", UserName="b", SSHPublicKeyId=kid)


def test_status_and_missing_user(iam):
    iam("CreateUser", UserName="u")
    kid = _upload(iam)["SSHPublicKeyId"]
    with pytest.raises(InvalidInput):
        iam("UpdateSSHPublicKey", UserName="u", SSHPublicKeyId=kid, Status="Expired")
    with pytest.raises(NoSuchEntity) as e:
        _upload(iam, "ghost")
    assert e.value.message == "The user with name ghost cannot be found."


def test_list_defaults_to_caller(iam):
    iam("CreateUser", UserName="self")
    kid = _upload(iam, "self")["SSHPublicKeyId"]
    me = iam.as_(user_principal("self"))
    assert [k["SSHPublicKeyId"] for k in me("ListSSHPublicKeys")["SSHPublicKeys"]] == [kid]
    assert iam.as_(ROOT)("ListSSHPublicKeys") == {"SSHPublicKeys": [], "IsTruncated": False}


def test_denied(iam):
    iam("CreateUser", UserName="u")
    iam.auth.deny.add("iam:GetSSHPublicKey")
    with pytest.raises(AccessDenied):
        iam("GetSSHPublicKey", UserName="u", SSHPublicKeyId="APKA" + "X" * 17, Encoding="SSH")


def test_delete_user_conflict(iam):
    iam("CreateUser", UserName="u")
    kid = _upload(iam)["SSHPublicKeyId"]
    with pytest.raises(DeleteConflict) as e:
        iam("DeleteUser", UserName="u")
    assert e.value.message == "Cannot delete entity, must delete SSH public keys first."
    iam("DeleteSSHPublicKey", UserName="u", SSHPublicKeyId=kid)
    iam("DeleteUser", UserName="u")
