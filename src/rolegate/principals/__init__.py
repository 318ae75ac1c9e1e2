"""What iam, sts, federation and organizations share, one layer below them
(tests/test_layers.py): principals and their policy sets, role lookup and
trust binding, MFA checks, identity providers, the organization an account
belongs to, and session issue (durations, session policies and tags,
sealed credentials, role sessions).

The service packages import from here and never from each other; nothing
here imports a service package. Submodules are imported by name: this
package imports none of them itself.
"""
