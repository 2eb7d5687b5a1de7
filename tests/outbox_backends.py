"""A provider stand-in for delivery tests run in other processes: takes `SEND_DELAY` seconds
per message, then writes the message's id to the file `SENT_LOG` — what the provider accepted."""

import os
import time


class SlowRecordingBackend:
    def send(self, message) -> None:
        time.sleep(float(os.environ.get("SEND_DELAY", "0")))
        with open(os.environ["SENT_LOG"], "a") as log:
            log.write(f"{message.pk}\n")
            log.flush()
            os.fsync(log.fileno())
