import { PortalHomeCounters } from "@portal/js/portal";

// Customers who never complained still find the way to file a complaint on their portal home.
PortalHomeCounters.include({
    _getCountersAlwaysDisplayed() {
        return this._super(...arguments).concat(["complaint_count"]);
    },
});
