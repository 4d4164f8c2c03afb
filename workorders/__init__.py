"""The work-order book: lifecycle, response deadlines (SLA) and the records of each job."""
