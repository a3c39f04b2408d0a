-- One trace per call (issue 15): the W3C traceparent (`00-{trace id}-{span id}-{flags}`) of the
-- span that enqueued a job, so the job's span links to it (an OTLP span link). NULL when
-- traces were not exported at the time, and for jobs enqueued before this column.
ALTER TABLE jobs ADD COLUMN trace_parent TEXT;
