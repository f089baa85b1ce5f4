CREATE TABLE widgets_test.widgets (id integer PRIMARY KEY);
