import sys

from kiosk.cli import main

if __name__ == "__main__":  # not when a child process (kiosk.asr_worker) is started
    sys.exit(main())
