"""Live CRM sync: pull what changed in Salesforce or HubSpot and write it through the
importers, a cursor per object, with a log of every run."""
