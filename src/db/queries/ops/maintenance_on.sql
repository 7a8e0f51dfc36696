-- Whether maintenance mode is on (schedulers then create and queue nothing). No parameters.
SELECT maintenance AS on FROM operator_notice
