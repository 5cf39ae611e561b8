"""Jobs as the entry points see them: the job store, creation and cancel, events, webhooks, schedules."""
