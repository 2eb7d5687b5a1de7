"""`run_simulations`: run the queued what-if simulations of the rules, then purge old ones."""

from django.core.management.base import BaseCommand

from loyalty.engine.simulation.runs import simulations_run_due


class Command(BaseCommand):
    help = (
        "Run the queued rule simulations (at most SIMULATION_MAX_RUNNING per account at once) and "
        "delete those that ended more than SIMULATION_KEEP_DAYS ago. Safe to run at any time, and "
        "from several processes."
    )

    def handle(self, *args, **options):
        outcome = simulations_run_due()
        self.stdout.write(
            f"Ran {outcome['ran']} simulation(s), {outcome['failed']} failed, purged {outcome['purged']}."
        )
