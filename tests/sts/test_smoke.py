from tests.sts.conftest import A, World, allow, role_arn, trust


def test_smoke(world: World) -> None:
    alice = world.user(A, "alice")
    world.role(A, "r", trust({"AWS": alice.arn}), allow("iam:ListUsers"))
    out = world.assume(alice, role_arn(A, "r"))
    print(out)
    p = world.principal(out["Credentials"])
    print(p)
    assert world.allowed(p, "iam:ListUsers")
    assert not world.allowed(p, "iam:CreateUser")
