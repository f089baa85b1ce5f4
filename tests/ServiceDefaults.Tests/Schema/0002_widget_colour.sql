ALTER TABLE widgets_test.widgets ADD COLUMN colour text NOT NULL DEFAULT 'blue';
