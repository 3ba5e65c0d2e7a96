/**
 * The `data/options.yml` written on first start. Every key is present with its default and
 * a comment, so a user edits values instead of looking up names. Keys and meanings are
 * upstream ImageServer's; an upstream file can replace this one as it is.
 */
export const DEFAULT_OPTIONS_FILE = `# aiframe-server options. Written with the defaults on first start; edit and restart.
# Keys are the upstream ImageServer's, so an options.yml from ImageServer works here too.

# How much the log says: DEBUG, INFO, WARNING or ERROR.
log_level: INFO

# Folder for pictures (originals in <image_path>/original, frame renders in <image_path>/frame).
# Left unset, the --images flag or IMAGES_DIR decides, else ./images.
# image_path: /images

# Pruning keeps the library between these counts: when a new picture or the daily scan finds
# more than image_amount_max pictures, the oldest are deleted down to image_amount_min.
image_amount_min: 1000
image_amount_max: 2000

# Minutes that must pass since the last generation before the frame's "Change" (type auto)
# makes a new picture; until then it shows a random stored one. 0 generates every time.
image_generate_threshold: 10

# Cron schedules, in the server's local time zone (TZ). Five fields (minute hour day month
# weekday), or six with seconds first.
# check_pending_cron: advances generations that wait on a remote service.
check_pending_cron: "* * * * *"
# scan_image_cron: re-reads the picture folder and prunes it.
scan_image_cron: "0 0 * * *"

# The frame's screen. image_weight is upstream's spelling of the width (image_width works too).
iframe_image_parameters:
  image_weight: 320
  image_height: 480
  # fit_mode: auto (upstream's rule: stretch when the aspect ratios differ by at most
  # fit_threshold, otherwise fit inside and pad with black), cover (crop to fill),
  # contain (fit inside, pad with black) or stretch.
  fit_mode: auto
  fit_threshold: 0.03
  # JPEG quality of what the frame downloads (30..100). The encoder keeps the file small
  # for the frame's slow Wi-Fi while staying a baseline JPEG the frame can decode.
  # jpeg_quality: 80

# How many prompts data/prompts.json keeps; adding one more drops the oldest.
prompts_amount: 10

# Minutes a generation may take before it is given up and the frame gets a stored picture.
generation_timeout_minutes: 15

# Image providers, by id. The frame can also ask for one by id: {"type":"lim"}.
providers:
  # The built-in offline generator: no network, key or model. With enabled: auto it makes
  # pictures only while no other generating provider is configured; true keeps it in the mix,
  # false turns it off. It always stands in when the library is empty and nothing else works.
  offline:
    enabled: auto
  # A folder of your own photos (upstream "lim"). Nothing is copied out of it.
  # lim:
  #   local_image_folder: /photos
  #
  # Generators (each is explained, with all its options, in the README's "Providers"). Every
  # provider section also takes image_generate_threshold, sleep_time and daily_limit.
  #
  # YandexART (paid): credentials in data/ydart-options.json or YANDEX_FOLDER_ID/YANDEX_API_KEY.
  # A paid provider is called at most 20 times a day unless its daily_limit says otherwise
  # (a number, or unlimited): the frame's buttons need no password.
  # ydArt:
  #   daily_limit: 20
  # Local Stable Diffusion on this machine's CPU: first run "npm run model -- pull sd-turbo".
  # onnx:
  #   model: sd-turbo
  # AUTOMATIC1111 / Forge started with --api:
  # a1111:
  #   base_url: http://192.168.1.30:7860
  # ComfyUI with a workflow saved in API format ({{prompt}}, {{seed}}... placeholders):
  # comfyui:
  #   base_url: http://192.168.1.30:8188
  #   workflow: /data/comfyui-workflow.json
  # Fooocus-API (fooocus) or FooocusAPI (fooocusapi):
  # fooocus:
  #   base_url: http://192.168.1.30:8888
  # Imagine (imagine serve):
  # imagine:
  #   base_url: http://192.168.1.30:8000
  #   model: dreamshaper_8
  # OpenAI images (key here or in OPENAI_API_KEY); localai and qwen take a base_url:
  # openai:
  #   model: dall-e-3

# Providers to leave out, by id.
disabled_providers: []

# The token the web page (/ui/) and the JSON API (/api/) ask for before anything that
# spends money, deletes or changes settings. At least 16 characters, no spaces. Left unset,
# the environment variable AIFRAME_ADMIN_TOKEN is used; without that, a token is generated
# at first start, kept in data/admin-token and shown once on the console (never in the
# log files). The frame's own routes never need it (the firmware cannot send one).
# admin_token: a-long-random-string-of-your-own

# Who may talk to the server at all, frames included: networks in CIDR notation (or single
# addresses). Anyone else gets 403. Left unset: the private ranges, loopback and link-local
# addresses below. Behind a reverse proxy, the proxy's address is the one checked.
# allowed_networks:
#   - 127.0.0.0/8
#   - 10.0.0.0/8
#   - 172.16.0.0/12
#   - 192.168.0.0/16
#   - 169.254.0.0/16
#   - ::1/128
#   - fc00::/7
#   - fe80::/10
`;
