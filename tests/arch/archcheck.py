"""The command line both architecture checks share: check SRC_DIR, or --self-test."""
import os
import sys


def run(argv, check, self_test, failed, passed):
    """check(src) -> findings; failed(findings) and passed(src) -> the closing line."""
    if argv[1:] == ["--self-test"]:
        return self_test()
    here = os.path.dirname(os.path.abspath(argv[0]))
    src = argv[1] if len(argv) > 1 else os.path.join(here, "..", "..", "src")
    findings = check(src)
    for line in findings:
        print(line)
    print(failed(findings) if findings else passed(src))
    return 1 if findings else 0


def main(check, self_test, failed, passed):
    sys.exit(run(sys.argv, check, self_test, failed, passed))
