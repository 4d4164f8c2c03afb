// What the screens' action forms share: run an API call from a button or a form, say the outcome, reload;
// keep what the user is typing when a live event re-renders the panel around it.

/** An event handler that runs `call()`, then notifies `done` (text, or a function of the call's answer) and
 * awaits `reload()`; errors are notified. */
export function act(ctx, reload, call, done) {
  return async (event) => {
    event?.preventDefault();
    const button = event?.submitter || event?.currentTarget;
    if (button) button.disabled = true;
    try {
      const answer = await call();
      if (event?.target instanceof HTMLFormElement) event.target.reset(); // what was sent is not kept
      ctx.notify(typeof done === "function" ? done(answer) : done, "ok");
      await reload();
    } catch (error) {
      ctx.notify(ctx.describe(error), "error");
      if (button) button.disabled = false;
    }
  };
}

/** The values the user changed in `container`'s named controls. */
export function typedValues(container) {
  return new Map([...container.querySelectorAll("input[name], textarea[name], select[name]")]
    .filter((control) => control.value !== control.defaultValue
      || (control instanceof HTMLSelectElement && !control.options[control.selectedIndex]?.defaultSelected))
    .map((control) => [control.name, control.value]));
}

/** Put `typed` values back into `container` (after a re-render), announcing changes to listeners. */
export function restoreValues(container, typed) {
  for (const [name, value] of typed) {
    const control = container.querySelector(`[name="${name}"]`);
    if (!control) continue;
    control.value = value;
    control.dispatchEvent(new Event("change"));
  }
}
