"""The agents' inbox screen: the list, the thread, the composer and every action on one ticket.

Above the areas it puts on one page (tickets, replies, customers, engines, incidents, media).
"""
